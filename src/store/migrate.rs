//! Schema version and numbered migrations, each in its own transaction. A file written by a
//! newer nsbox is refused rather than misread.

use redb::{Database, ReadableTable, WriteTransaction};

use super::StoreError;
use super::tables::*;

type Migration = fn(&WriteTransaction) -> Result<(), StoreError>;

/// Index i holds the migration to schema version i + 1.
const MIGRATIONS: &[Migration] = &[create_tables, add_tsig_keys];

pub const LATEST: u32 = MIGRATIONS.len() as u32;

pub fn run(db: &Database) -> Result<(), StoreError> {
    let current = current_version(db)?;
    if current > LATEST {
        return Err(StoreError::TooNew { found: current, supported: LATEST });
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let txn = db.begin_write()?;
        migration(&txn)?;
        txn.open_table(META)?.insert("schema_version", (index as u32 + 1).to_string().as_str())?;
        txn.commit()?;
    }
    Ok(())
}

fn current_version(db: &Database) -> Result<u32, StoreError> {
    let txn = db.begin_write()?;
    let version = {
        let meta = txn.open_table(META)?;
        let stored = meta.get("schema_version")?.map(|v| v.value().to_string());
        match stored {
            Some(text) => text.parse().map_err(|_| StoreError::Corrupt(format!("schema_version '{text}'")))?,
            None => 0,
        }
    };
    txn.commit()?;
    Ok(version)
}

/// Version 1: every table, so read transactions never meet a missing one.
fn create_tables(txn: &WriteTransaction) -> Result<(), StoreError> {
    txn.open_table(USERS)?;
    txn.open_table(USERNAMES)?;
    txn.open_table(TOKENS)?;
    txn.open_table(ZONES)?;
    txn.open_table(ZONE_DOMAINS)?;
    txn.open_table(RECORDS)?;
    txn.open_table(RECORD_ZONE)?;
    txn.open_multimap_table(RECORD_NAMES)?;
    txn.open_table(JOURNAL)?;
    txn.open_table(AUDIT)?;
    let mut meta = txn.open_table(META)?;
    meta.insert("server_id", crate::domain::new_id("srv_").as_str())?;
    meta.insert("created_at", crate::domain::now().to_string().as_str())?;
    Ok(())
}

/// Version 2: TSIG keys for zone transfers.
fn add_tsig_keys(txn: &WriteTransaction) -> Result<(), StoreError> {
    txn.open_table(TSIG_KEYS)?;
    Ok(())
}
