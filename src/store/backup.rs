//! Consistent copies of the data file (backup) and putting one back (restore).

use std::path::Path;

use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable, WriteTransaction};

use super::tables::*;
use super::{Store, StoreError, already_open, file};

/// A consistent copy of a data file no server has open into `out` (a new file); `AlreadyOpen`
/// when one has.
pub fn backup(source: &Path, out: &Path) -> Result<(), StoreError> {
    file::legacy_log::refuse_unmerged(source)?;
    let db = Database::builder()
        .set_concurrency_mode(redb::ConcurrencyMode::ExclusiveWriter)
        .open_read_only(source)
        .map_err(|e| already_open(e, source))?;
    copy_snapshot(&db.begin_read()?, out)
}

/// Puts the backup at `backup` in place of the data file at `data` while no server has it
/// open. The backup is checked by opening a copy before anything at `data` changes; the copy
/// then replaces the data file in one rename, and the log an older nsbox may have left beside
/// it goes (it belongs to the file being replaced).
pub fn restore(backup: &Path, data: &Path) -> Result<(), StoreError> {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
        move |e| StoreError::Io(path.to_path_buf(), e)
    }
    // Opening the file in place proves no server holds it; whatever else is wrong with it is
    // what the restore is for.
    if data.exists()
        && let Err(e @ StoreError::AlreadyOpen(_)) = Store::open(data, 1 << 20)
    {
        return Err(e);
    }
    let staged = data.with_extension("restoring");
    let _ = std::fs::remove_file(&staged);
    file::copy_durably(backup, &staged).map_err(io(backup))?;
    if let Err(e) = Store::open(&staged, 1 << 20) {
        let _ = std::fs::remove_file(&staged);
        return Err(StoreError::Corrupt(format!("{} is not a usable nsbox backup: {e}", backup.display())));
    }
    file::rename_durably(&staged, data).map_err(io(data))?;
    file::legacy_log::remove(data).map_err(io(data))
}

impl Store {
    /// The server's own consistent copy of its data file into `out`.
    pub fn backup_to(&self, out: &Path) -> Result<(), StoreError> {
        copy_snapshot(&self.db.begin_read()?, out)
    }
}

fn copy_snapshot(source: &ReadTransaction, out: &Path) -> Result<(), StoreError> {
    if out.exists() {
        return Err(StoreError::Corrupt(format!("{} exists already: a backup never overwrites", out.display())));
    }
    let target = Database::builder().create_with_backend(file::create_new(out)?)?;
    let txn = target.begin_write()?;
    copy(source, &txn, META)?;
    copy(source, &txn, USERS)?;
    copy(source, &txn, USERNAMES)?;
    copy(source, &txn, TOKENS)?;
    copy(source, &txn, ZONES)?;
    copy(source, &txn, ZONE_DOMAINS)?;
    copy(source, &txn, RECORDS)?;
    copy(source, &txn, JOURNAL)?;
    copy(source, &txn, AUDIT)?;
    copy(source, &txn, TSIG_KEYS)?;
    copy(source, &txn, DNSSEC)?;
    txn.commit()?;
    file::sync_parent(out).map_err(|e| StoreError::Io(out.to_path_buf(), e))
}

fn copy<K: redb::Key + 'static, V: redb::Value + 'static>(
    source: &ReadTransaction,
    target: &WriteTransaction,
    table: redb::TableDefinition<K, V>,
) -> Result<(), StoreError> {
    let from = source.open_table(table)?;
    let mut to = target.open_table(table)?;
    for row in from.iter()? {
        let (key, value) = row?;
        to.insert(key.value(), value.value())?;
    }
    Ok(())
}
