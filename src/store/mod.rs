//! The only module that touches redb. Speaks domain types; one write transaction per change.
//!
//! `Store::read` and `Store::write` hand a closure a view of one transaction; the closure uses
//! the narrow methods of `Read` (both views) and `Txn` (writes). A write commits — durably,
//! before the caller answers anyone — only when the closure returns Ok.

mod backup;
mod codec;
#[cfg(test)]
mod crash_tests;
mod error;
pub mod file;
mod migrate;
mod read;
mod record_index;
#[cfg(test)]
mod retention_tests;
#[cfg(test)]
mod sim_disk;
mod tables;
mod txn;

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::domain::Timestamp;
use crate::domain::record::Record;
use record_index::{Moves, Place, RecordIndex};
use tables::*;

pub use backup::{backup, restore};
pub use error::StoreError;
pub use migrate::LATEST as SCHEMA_VERSION;
pub use read::{Read, Snapshot};
pub use txn::Txn;

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
        let (zone, name, record) = key.value();
        places.insert(record, Place::new(zone, name));
    }
    Ok(places)
}

fn already_open(e: redb::DatabaseError, path: &Path) -> StoreError {
    match e {
        redb::DatabaseError::DatabaseAlreadyOpen => StoreError::AlreadyOpen(path.to_path_buf()),
        other => other.into(),
    }
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising our own plain structs to JSON cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}
