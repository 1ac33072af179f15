//! The only module that touches redb. Speaks domain types; one write transaction per change.
//!
//! `Store::read` and `Store::write` hand a closure a view of one transaction; the closure uses
//! the narrow methods of `Read` (both views) and `Txn` (writes). A write commits — durably,
//! before the caller answers anyone — only when the closure returns Ok.

mod codec;
#[cfg(test)]
mod crash_tests;
pub mod file;
mod migrate;
mod record_index;
#[cfg(test)]
mod retention_tests;
#[cfg(test)]
mod sim_disk;
mod tables;

use std::path::{Path, PathBuf};

use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable, ReadableTableMetadata, WriteTransaction};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::domain::Timestamp;
use crate::domain::auth::{Token, User};
use crate::domain::record::Record;
use crate::domain::tsig::TsigKey;
use crate::domain::zone::Zone;
use record_index::{Moves, Place, RecordIndex};
use tables::*;

pub use migrate::LATEST as SCHEMA_VERSION;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the data file {0} is already in use by another nsbox process")]
    AlreadyOpen(PathBuf),
    #[error("the data file was written by a newer nsbox (schema {found}; this build knows {supported})")]
    TooNew { found: u32, supported: u32 },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("cannot open {0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error(
        "{} is a write-ahead log from an older nsbox that {why}; this version does not replay it \
         into {}. Start the nsbox version that wrote it once and stop it cleanly (that merges \
         the log), or move the log aside to keep the data file as it is, or replace both with \
         `nsbox restore BACKUP --force`. Neither file was changed.",
        log.display(), data.display()
    )]
    LegacyLog { log: PathBuf, data: PathBuf, why: &'static str },
    /// A write or flush failed: nothing more is written by this process (redb refuses), and the
    /// next start finds the file as of its last acknowledged commit.
    #[error("the data file cannot be written: {0}; nsbox refuses writes until it is restarted")]
    Unavailable(String),
    #[error("storage error: {0}")]
    Redb(redb::Error),
}

impl From<redb::Error> for StoreError {
    fn from(e: redb::Error) -> Self {
        match e {
            redb::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => StoreError::Corrupt(io.to_string()),
            redb::Error::Io(io) => StoreError::Unavailable(io.to_string()),
            redb::Error::PreviousIo => StoreError::Unavailable("an earlier write or flush failed".into()),
            other => StoreError::Redb(other),
        }
    }
}

macro_rules! redb_errors {
    ($($error:ty),*) => {$(
        impl From<$error> for StoreError {
            fn from(e: $error) -> Self {
                redb::Error::from(e).into()
            }
        }
    )*};
}
redb_errors!(
    redb::StorageError,
    redb::TableError,
    redb::TransactionError,
    redb::CommitError,
    redb::DatabaseError,
    redb::CompactionError
);

/// One zone change as journaled: what left and what came, and the serials around it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JournalEntry {
    pub from_serial: u32,
    pub to_serial: u32,
    pub at: Timestamp,
    pub removed: Vec<Record>,
    pub added: Vec<Record>,
    /// Who changed the records: a record change's audit entry is its journal entry, so a
    /// change is written once. None for settings changes (audited in AUDIT) and for entries
    /// from before schema 3, whose audit entries are in AUDIT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Author>,
}

/// Who made a record change, how (token id, "console", "cli", TSIG key) and what it was.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Author {
    pub actor: String,
    pub via: String,
    pub action: String,
    /// Nanoseconds into the entry's second.
    pub nanos: u32,
}

/// Who changed what and when, with before/after values.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditEntry {
    #[serde(default)]
    pub seq: u64,
    pub at: Timestamp,
    /// Nanoseconds into `at`: orders this entry among the journal's (0 before schema 3).
    #[serde(default)]
    pub nanos: u32,
    pub actor: String,
    /// How: a token id, "console" or "cli".
    pub via: String,
    pub action: String,
    pub zone_id: Option<String>,
    pub zone: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// How much history is kept: changes per zone (IXFR and the zone's history) and other
/// audited changes in all.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub journal_per_zone: usize,
    pub audit: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Self { journal_per_zone: 1_000, audit: 100_000 }
    }
}

pub struct Store {
    db: Database,
    retention: Retention,
    records: RecordIndex,
    /// One write at a time, from its start until its index moves are applied: each reads the
    /// index as the last one left it.
    writer: std::sync::Mutex<()>,
}

impl Store {
    /// Opens (or creates) the data file and brings its schema up to date. Fails at once if
    /// another process has it open. `cache_bytes` bounds redb's page cache (its default,
    /// 1 GiB, is more than a small VPS has).
    pub fn open(path: &Path, cache_bytes: usize) -> Result<Self, StoreError> {
        if !path.exists() {
            create(path)?;
        }
        let mut store = Self::open_on(file::open(path)?, cache_bytes).map_err(|e| match e {
            StoreError::Redb(redb::Error::DatabaseAlreadyOpen) => StoreError::AlreadyOpen(path.to_path_buf()),
            other => other,
        })?;
        file::legacy_log::remove(path).map_err(|e| StoreError::Io(path.to_path_buf(), e))?;
        let length = std::fs::metadata(path).map_err(|e| StoreError::Io(path.to_path_buf(), e))?.len();
        store.compact_if_sparse(length)?;
        Ok(store)
    }

    /// Opens the store over any backend: the data file, or the tests' simulated disk.
    fn open_on(backend: impl redb::StorageBackend, cache_bytes: usize) -> Result<Self, StoreError> {
        // The file is this process's alone: redb commits a file shared with other processes in
        // two phases, two fsyncs instead of one, which doubled the cost of every API write.
        // `nsbox backup` asks the running server through `control` instead.
        let db = Database::builder()
            .set_cache_size(cache_bytes)
            .set_concurrency_mode(redb::ConcurrencyMode::ExclusiveWriter)
            .create_with_backend(backend)?;
        migrate::run(&db)?;
        let records = RecordIndex::new(stored_places(&db)?);
        Ok(Self { db, records, writer: std::sync::Mutex::new(()), retention: Retention::default() })
    }

    /// Gives back the file's free pages when they are a quarter of it or more: redb reuses
    /// pages freed by later commits but never shrinks the file by itself, so a mass import or
    /// deletion left it larger for good. Compaction commits like any write (crash-safe) and
    /// takes a fraction of a second for tens of megabytes; it runs at start, before anything
    /// else can hold a transaction.
    fn compact_if_sparse(&mut self, file_length: u64) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        let stats = txn.stats()?;
        txn.abort()?;
        let used = stats.allocated_pages() * stats.page_size() as u64;
        if file_length.saturating_sub(used) >= file_length / 4 {
            while self.db.compact()? {}
        }
        Ok(())
    }

    /// Keeps this much history from now on (older entries go as new ones come).
    pub fn with_retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    pub fn read<T, E: From<StoreError>>(&self, f: impl FnOnce(&Snapshot) -> Result<T, E>) -> Result<T, E> {
        let txn = self.db.begin_read().map_err(StoreError::from)?;
        f(&Snapshot { txn, store: self })
    }

    pub fn write<T, E: From<StoreError>>(&self, f: impl FnOnce(&mut Txn) -> Result<T, E>) -> Result<T, E> {
        let _one_writer = self.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let inner = self.db.begin_write().map_err(StoreError::from)?;
        let mut txn = Txn { inner, index: &self.records, moves: Moves::new(), retention: self.retention };
        let value = f(&mut txn)?;
        let Txn { inner, moves, .. } = txn;
        self.records.commit(moves, || inner.commit()).map_err(StoreError::from)?;
        Ok(value)
    }
}

/// Makes a new data file under another name, with its schema, and renames it into place, so a
/// crash never leaves a half-made file at `path` (redb cannot open one).
fn create(path: &Path) -> Result<(), StoreError> {
    let io = |e| StoreError::Io(path.to_path_buf(), e);
    let staged = path.with_extension("creating");
    match std::fs::remove_file(&staged) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
        _ => {}
    }
    drop(Store::open_on(file::create_new(&staged)?, 1 << 20)?);
    file::rename_durably(&staged, path).map_err(io)
}

/// Where the stored records are, from their keys.
fn stored_places(db: &Database) -> Result<std::collections::HashMap<u128, Place>, StoreError> {
    let txn = db.begin_read()?;
    let table = txn.open_table(RECORDS)?;
    let mut places = std::collections::HashMap::with_capacity(table.len()? as usize);
    for row in table.iter()? {
        let (key, _) = row?;
        let (zone_id, name, record_id) = key.value();
        let (key, place) = Place::of(zone_id, name, record_id)?;
        places.insert(key, place);
    }
    Ok(places)
}

fn already_open(e: redb::DatabaseError, path: &Path) -> StoreError {
    match e {
        redb::DatabaseError::DatabaseAlreadyOpen => StoreError::AlreadyOpen(path.to_path_buf()),
        other => other.into(),
    }
}

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

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising our own plain structs to JSON cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

/// Reads, the same over a read snapshot and inside a write transaction.
pub trait Read {
    #[doc(hidden)]
    fn raw_get(&self, table: TableDefinition, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    #[doc(hidden)]
    fn raw_all(&self, table: TableDefinition) -> Result<Vec<Vec<u8>>, StoreError>;
    #[doc(hidden)]
    fn raw_index(&self, table: IndexDefinition, key: &str) -> Result<Option<String>, StoreError>;
    #[doc(hidden)]
    fn raw_each_record(&self, zone_id: &str, name: Option<&str>, f: &mut RowVisitor) -> Result<(), StoreError>;
    #[doc(hidden)]
    fn raw_record(&self, record_id: &str) -> Result<Option<Record>, StoreError>;
    #[doc(hidden)]
    fn raw_journal(&self, zone_id: &str, after_serial: u32) -> Result<Vec<Vec<u8>>, StoreError>;
    #[doc(hidden)]
    fn raw_journal_newest(&self, zone_id: &str, limit: usize) -> Result<Vec<Vec<u8>>, StoreError>;
    #[doc(hidden)]
    fn raw_audit(&self, before_seq: u64, limit: usize) -> Result<Vec<Vec<u8>>, StoreError>;

    fn zone(&self, id: &str) -> Result<Option<Zone>, StoreError> {
        self.raw_get(ZONES, id)?.map(|b| decode(&b)).transpose()
    }

    fn zone_by_domain(&self, domain: &str) -> Result<Option<Zone>, StoreError> {
        match self.raw_index(ZONE_DOMAINS, domain)? {
            Some(id) => self.zone(&id),
            None => Ok(None),
        }
    }

    fn zones(&self) -> Result<Vec<Zone>, StoreError> {
        self.raw_all(ZONES)?.iter().map(|b| decode(b)).collect()
    }

    /// The zone's records in creation order.
    fn records(&self, zone_id: &str) -> Result<Vec<Record>, StoreError> {
        let mut rows = Vec::new();
        self.raw_each_record(zone_id, None, &mut |name, id, bytes| {
            rows.push((id.to_string(), name.to_string(), bytes.to_vec()));
            Ok(())
        })?;
        // Stored by name; record ids sort by creation time. Sorted before decoding, the records
        // lie in memory in the order they are then read (sorting decoded ones cost a 10,000-record
        // list a third more time).
        rows.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        rows.iter().map(|(id, name, bytes)| codec::record_from(zone_id, name, id, bytes)).collect()
    }

    /// Each of the zone's records in name order, one at a time: nothing holds them all.
    fn each_record(&self, zone_id: &str, f: &mut dyn FnMut(Record)) -> Result<(), StoreError> {
        self.raw_each_record(zone_id, None, &mut |name, id, bytes| {
            f(codec::record_from(zone_id, name, id, bytes)?);
            Ok(())
        })
    }

    fn record(&self, id: &str) -> Result<Option<Record>, StoreError> {
        self.raw_record(id)
    }

    /// The records at one relative name of a zone.
    fn records_named(&self, zone_id: &str, name: &str) -> Result<Vec<Record>, StoreError> {
        let mut out = Vec::new();
        self.raw_each_record(zone_id, Some(name), &mut |name, id, bytes| {
            out.push(codec::record_from(zone_id, name, id, bytes)?);
            Ok(())
        })?;
        Ok(out)
    }

    fn journal_since(&self, zone_id: &str, serial: u32) -> Result<Vec<JournalEntry>, StoreError> {
        self.raw_journal(zone_id, serial)?.iter().map(|b| codec::journal_from(zone_id, b)).collect()
    }

    /// A zone's last `limit` changes, newest first.
    fn journal_newest(&self, zone_id: &str, limit: usize) -> Result<Vec<JournalEntry>, StoreError> {
        self.raw_journal_newest(zone_id, limit)?.iter().map(|b| codec::journal_from(zone_id, b)).collect()
    }

    /// Newest first, entries with seq < `before_seq`.
    fn audit(&self, before_seq: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.raw_audit(before_seq, limit)?.iter().map(|b| decode(b)).collect()
    }

    fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.raw_get(USERS, id)?.map(|b| decode(&b)).transpose()
    }

    fn user_by_name(&self, username: &str) -> Result<Option<User>, StoreError> {
        match self.raw_index(USERNAMES, username)? {
            Some(id) => self.user(&id),
            None => Ok(None),
        }
    }

    fn users(&self) -> Result<Vec<User>, StoreError> {
        self.raw_all(USERS)?.iter().map(|b| decode(b)).collect()
    }

    fn token(&self, id: &str) -> Result<Option<Token>, StoreError> {
        self.raw_get(TOKENS, id)?.map(|b| decode(&b)).transpose()
    }

    fn tokens(&self) -> Result<Vec<Token>, StoreError> {
        self.raw_all(TOKENS)?.iter().map(|b| decode(b)).collect()
    }

    fn tsig_keys(&self) -> Result<Vec<TsigKey>, StoreError> {
        self.raw_all(TSIG_KEYS)?.iter().map(|b| decode(b)).collect()
    }

    /// A server-wide setting kept in the data file.
    fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.raw_index(META, key)
    }
}

type TableDefinition = redb::TableDefinition<'static, &'static str, &'static [u8]>;
/// Called with each stored record's name, id and encoded value.
type RowVisitor<'a> = dyn FnMut(&str, &str, &[u8]) -> Result<(), StoreError> + 'a;
type IndexDefinition = redb::TableDefinition<'static, &'static str, &'static str>;

/// The same reads for both transaction kinds: only the table types differ, not the code.
macro_rules! impl_read {
    ($txn:ty, $inner:ident) => {
        impl Read for $txn {
            fn raw_get(&self, table: TableDefinition, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
                Ok(self.$inner().open_table(table)?.get(key)?.map(|v| v.value().to_vec()))
            }

            fn raw_all(&self, table: TableDefinition) -> Result<Vec<Vec<u8>>, StoreError> {
                let table = self.$inner().open_table(table)?;
                let rows = table.iter()?;
                rows.map(|row| Ok(row?.1.value().to_vec())).collect()
            }

            fn raw_index(&self, table: IndexDefinition, key: &str) -> Result<Option<String>, StoreError> {
                Ok(self.$inner().open_table(table)?.get(key)?.map(|v| v.value().to_string()))
            }

            /// A zone's records, or one name's, in key order: one range, from the first key on.
            fn raw_each_record(&self, zone_id: &str, name: Option<&str>, f: &mut RowVisitor) -> Result<(), StoreError> {
                let table = self.$inner().open_table(RECORDS)?;
                for row in table.range((zone_id, name.unwrap_or(""), "")..)? {
                    let (key, value) = row?;
                    let (zone, at, id) = key.value();
                    if zone != zone_id || name.is_some_and(|name| at != name) {
                        break;
                    }
                    f(at, id, value.value())?;
                }
                Ok(())
            }

            fn raw_record(&self, record_id: &str) -> Result<Option<Record>, StoreError> {
                self.find_record(record_id)
            }

            fn raw_journal(&self, zone_id: &str, after_serial: u32) -> Result<Vec<Vec<u8>>, StoreError> {
                let table = self.$inner().open_table(JOURNAL)?;
                let rows = table.range((zone_id, after_serial.saturating_add(1))..=(zone_id, u32::MAX))?;
                rows.map(|row| Ok(row?.1.value().to_vec())).collect()
            }

            fn raw_journal_newest(&self, zone_id: &str, limit: usize) -> Result<Vec<Vec<u8>>, StoreError> {
                let table = self.$inner().open_table(JOURNAL)?;
                let rows = table.range((zone_id, 0)..=(zone_id, u32::MAX))?.rev().take(limit);
                rows.map(|row| Ok(row?.1.value().to_vec())).collect()
            }

            fn raw_audit(&self, before_seq: u64, limit: usize) -> Result<Vec<Vec<u8>>, StoreError> {
                let table = self.$inner().open_table(AUDIT)?;
                let rows = table.range(..before_seq)?.rev().take(limit);
                rows.map(|row| Ok(row?.1.value().to_vec())).collect()
            }
        }
    };
}

/// The stored record with this id, if it is at `place` in this transaction.
fn record_at(
    records: &impl ReadableTable<(&'static str, &'static str, &'static str), &'static [u8]>,
    place: Option<Place>,
    record_id: &str,
) -> Result<Option<Record>, StoreError> {
    let Some(place) = place else {
        return Ok(None);
    };
    let zone_id = place.zone_id();
    let found = records.get((zone_id.as_str(), place.name(), record_id))?;
    found.map(|v| codec::record_from(&zone_id, place.name(), record_id, v.value())).transpose()
}

/// A read transaction, with the store it came from for lookups by record id.
pub struct Snapshot<'a> {
    txn: ReadTransaction,
    store: &'a Store,
}

impl Snapshot<'_> {
    fn read_txn(&self) -> &ReadTransaction {
        &self.txn
    }

    /// Where the index says, in this snapshot. A miss may mean the record moved or came after
    /// the snapshot began, or that the index has yet to learn of a commit the snapshot has: the
    /// record is then looked up again, in a snapshot begun while the index matches the file.
    fn find_record(&self, record_id: &str) -> Result<Option<Record>, StoreError> {
        let Some(key) = record_index::key(record_id) else {
            return Ok(None);
        };
        let index = &self.store.records;
        if let Some(found) = record_at(&self.txn.open_table(RECORDS)?, index.get(key), record_id)? {
            return Ok(Some(found));
        }
        let (txn, place) = index.settled(|| (self.store.db.begin_read(), index.get(key)));
        record_at(&txn?.open_table(RECORDS)?, place, record_id)
    }
}
impl_read!(Snapshot<'_>, read_txn);
impl_read!(Txn<'_>, write_txn);

/// A write transaction: reads plus the narrow writes, each keeping the indexes in step.
pub struct Txn<'a> {
    inner: WriteTransaction,
    index: &'a RecordIndex,
    /// This transaction's changes to the record index, applied when it commits.
    moves: Moves,
    retention: Retention,
}

impl Txn<'_> {
    fn write_txn(&self) -> &WriteTransaction {
        &self.inner
    }

    fn find_record(&self, record_id: &str) -> Result<Option<Record>, StoreError> {
        let Some(key) = record_index::key(record_id) else {
            return Ok(None);
        };
        let place = match self.moves.get(&key) {
            Some(moved) => moved.clone(),
            None => self.index.get(key),
        };
        record_at(&self.inner.open_table(RECORDS)?, place, record_id)
    }

    /// Stores a new zone and claims its domain.
    pub fn add_zone(&mut self, zone: &Zone) -> Result<(), StoreError> {
        self.inner.open_table(ZONE_DOMAINS)?.insert(zone.domain.as_str(), zone.id.as_str())?;
        self.put_zone(zone)
    }

    /// Replaces a stored zone. A zone's domain never changes, so its index entry stays: every
    /// table a commit touches costs the flush pages.
    pub fn put_zone(&mut self, zone: &Zone) -> Result<(), StoreError> {
        self.inner.open_table(ZONES)?.insert(zone.id.as_str(), encode(zone).as_slice())?;
        Ok(())
    }

    /// Removes a zone with its records, indexes and journal.
    pub fn delete_zone(&mut self, zone: &Zone) -> Result<(), StoreError> {
        for record in self.records(&zone.id)? {
            self.delete_record(&record)?;
        }
        self.inner.open_table(ZONES)?.remove(zone.id.as_str())?;
        self.inner.open_table(ZONE_DOMAINS)?.remove(zone.domain.as_str())?;
        let mut journal = self.inner.open_table(JOURNAL)?;
        journal.retain_in((zone.id.as_str(), 0)..=(zone.id.as_str(), u32::MAX), |_, _| false)?;
        Ok(())
    }

    /// Inserts or replaces a record; `previous` is its stored version when replacing.
    pub fn put_record(&mut self, record: &Record, previous: Option<&Record>) -> Result<(), StoreError> {
        let (zone_id, name, id) = (record.zone_id.as_str(), record.data.name.as_str(), record.id.as_str());
        let mut records = self.inner.open_table(RECORDS)?;
        if let Some(old) = previous.filter(|old| old.data.name != name) {
            records.remove((zone_id, old.data.name.as_str(), id))?;
        }
        records.insert((zone_id, name, id), codec::record_value(record).as_slice())?;
        if previous.is_none_or(|old| old.data.name != name) {
            let (key, place) = Place::of(zone_id, name, id)?;
            self.moves.insert(key, Some(place));
        }
        Ok(())
    }

    pub fn delete_record(&mut self, record: &Record) -> Result<(), StoreError> {
        let (zone_id, name, id) = (record.zone_id.as_str(), record.data.name.as_str(), record.id.as_str());
        self.inner.open_table(RECORDS)?.remove((zone_id, name, id))?;
        if let Some(key) = record_index::key(id) {
            self.moves.insert(key, None);
        }
        Ok(())
    }

    pub fn put_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.inner.open_table(META)?.insert(key, value)?;
        Ok(())
    }

    /// Journals a zone's change; the oldest beyond the retention go (a secondary that far
    /// behind gets the whole zone).
    pub fn append_journal(&mut self, zone_id: &str, entry: &JournalEntry) -> Result<(), StoreError> {
        let mut journal = self.inner.open_table(JOURNAL)?;
        journal.insert((zone_id, entry.to_serial), codec::journal_value(entry).as_slice())?;
        let zone = (zone_id, 0)..=(zone_id, u32::MAX);
        let newest_dropped = {
            let beyond = journal.range(zone)?.rev().nth(self.retention.journal_per_zone).transpose()?;
            beyond.map(|(key, _)| key.value().1)
        };
        if let Some(serial) = newest_dropped {
            journal.retain_in((zone_id, 0)..=(zone_id, serial), |_, _| false)?;
        }
        Ok(())
    }

    pub fn append_audit(&mut self, mut entry: AuditEntry) -> Result<(), StoreError> {
        let mut table = self.inner.open_table(AUDIT)?;
        let next = table.last()?.map(|(k, _)| k.value() + 1).unwrap_or(1);
        entry.seq = next;
        table.insert(next, encode(&entry).as_slice())?;
        // Entries are numbered without gaps: each new one retires the one that many before it.
        if let Some(oldest) = next.checked_sub(self.retention.audit) {
            table.remove(oldest)?;
        }
        Ok(())
    }

    pub fn put_user(&mut self, user: &User) -> Result<(), StoreError> {
        self.inner.open_table(USERS)?.insert(user.id.as_str(), encode(user).as_slice())?;
        self.inner.open_table(USERNAMES)?.insert(user.username.as_str(), user.id.as_str())?;
        Ok(())
    }

    pub fn delete_user(&mut self, user: &User) -> Result<(), StoreError> {
        self.inner.open_table(USERS)?.remove(user.id.as_str())?;
        self.inner.open_table(USERNAMES)?.remove(user.username.as_str())?;
        Ok(())
    }

    pub fn put_tsig_key(&mut self, key: &TsigKey) -> Result<(), StoreError> {
        self.inner.open_table(TSIG_KEYS)?.insert(key.name.as_str(), encode(key).as_slice())?;
        Ok(())
    }

    pub fn delete_tsig_key(&mut self, name: &str) -> Result<bool, StoreError> {
        Ok(self.inner.open_table(TSIG_KEYS)?.remove(name)?.is_some())
    }

    pub fn put_token(&mut self, token: &Token) -> Result<(), StoreError> {
        self.inner.open_table(TOKENS)?.insert(token.id.as_str(), encode(token).as_slice())?;
        Ok(())
    }
}
