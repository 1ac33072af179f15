//! Schema version and numbered migrations, each in its own transaction. A file written by a
//! newer nsbox is refused rather than misread.

use redb::{Database, MultimapTableDefinition, ReadableTable, TableDefinition, WriteTransaction};

use super::tables::*;
use super::{StoreError, codec, decode};
use crate::domain::record::Record;

type Migration = fn(&WriteTransaction) -> Result<(), StoreError>;

/// Index i holds the migration to schema version i + 1.
const MIGRATIONS: &[Migration] = &[
    create_tables,
    add_tsig_keys,
    key_records_by_name,
    drop_record_keys,
    name_the_admin_scope,
    compact_records,
    add_dnssec_keys,
];

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

/// Version 6: records and journal entries in the compact binary form of `codec` instead of
/// JSON, and records keyed by the numbers their ids spell (a fifth of the bytes in all).
fn compact_records(txn: &WriteTransaction) -> Result<(), StoreError> {
    {
        let old = txn.open_table(v3::RECORDS)?;
        let mut records = txn.open_table(RECORDS)?;
        for row in old.iter()? {
            let (key, value) = row?;
            let (zone_id, name, id) = key.value();
            let record: Record = decode(value.value())?;
            let (key, place) = super::record_index::Place::of(zone_id, name, id)?;
            records.insert((place.zone(), name, key), codec::record_value(&record).as_slice())?;
        }
    }
    txn.delete_table(v3::RECORDS)?;
    let mut journal = txn.open_table(JOURNAL)?;
    let mut entries = Vec::new();
    for row in journal.iter()? {
        let (key, value) = row?;
        let (zone_id, serial) = key.value();
        let entry: super::JournalEntry = decode(value.value())?;
        entries.push((zone_id.to_string(), serial, codec::journal_value(&entry)));
    }
    for (zone_id, serial, value) in entries {
        journal.insert((zone_id.as_str(), serial), value.as_slice())?;
    }
    Ok(())
}

/// Version 5: administration became a scope of its own (`admin`). A token of an admin user that
/// held every scope with no zone limit could administer before, so it keeps that right by
/// naming it; every narrower token loses the rights its scopes never named.
fn name_the_admin_scope(txn: &WriteTransaction) -> Result<(), StoreError> {
    use crate::domain::auth::{Scope, Token, User};
    let admins: Vec<String> = {
        let users = txn.open_table(USERS)?;
        let mut ids = Vec::new();
        for row in users.iter()? {
            let (id, user) = row?;
            if decode::<User>(user.value())?.admin {
                ids.push(id.value().to_string());
            }
        }
        ids
    };
    let mut tokens = txn.open_table(TOKENS)?;
    let mut widened = Vec::new();
    for row in tokens.iter()? {
        let (_, value) = row?;
        let mut token: Token = decode(value.value())?;
        let full = Scope::DNS.iter().all(|s| token.scopes.contains(s)) && token.zones.is_empty();
        if full && admins.contains(&token.user_id) && !token.scopes.contains(&Scope::Admin) {
            token.scopes.push(Scope::Admin);
            widened.push(token);
        }
    }
    for token in widened {
        tokens.insert(token.id.as_str(), super::encode(&token).as_slice())?;
    }
    Ok(())
}

/// Version 1: every table, so read transactions never meet a missing one.
fn create_tables(txn: &WriteTransaction) -> Result<(), StoreError> {
    txn.open_table(USERS)?;
    txn.open_table(USERNAMES)?;
    txn.open_table(TOKENS)?;
    txn.open_table(ZONES)?;
    txn.open_table(ZONE_DOMAINS)?;
    txn.open_table(v1::RECORDS)?;
    txn.open_table(v1::RECORD_ZONE)?;
    txn.open_multimap_table(v1::RECORD_NAMES)?;
    txn.open_table(JOURNAL)?;
    txn.open_table(AUDIT)?;
    let mut meta = txn.open_table(META)?;
    meta.insert("server_id", crate::domain::new_id("srv_").as_str())?;
    meta.insert("created_at", crate::domain::now().to_string().as_str())?;
    Ok(())
}

/// Version 7: zones' DNSSEC keys, apart from the zones (nothing that shows a zone shows them).
fn add_dnssec_keys(txn: &WriteTransaction) -> Result<(), StoreError> {
    txn.open_table(DNSSEC)?;
    Ok(())
}

/// Version 2: TSIG keys for zone transfers.
fn add_tsig_keys(txn: &WriteTransaction) -> Result<(), StoreError> {
    txn.open_table(TSIG_KEYS)?;
    Ok(())
}

/// Version 3: records keyed by (zone, name, id) with one id → key index, replacing the
/// (zone, id) table and its two indexes. A record create now touches two record tables, not
/// three: each table a commit touches costs this disk about 40–50 µs (BENCHMARKS.md).
fn key_records_by_name(txn: &WriteTransaction) -> Result<(), StoreError> {
    {
        let old = txn.open_table(v1::RECORDS)?;
        let mut records = txn.open_table(v3::RECORDS)?;
        let mut keys = txn.open_table(v3::RECORD_KEYS)?;
        for row in old.iter()? {
            let (key, value) = row?;
            let (zone_id, id) = key.value();
            let record: Record = decode(value.value())?;
            records.insert((zone_id, record.data.name.as_str(), id), value.value())?;
            keys.insert(id, (zone_id, record.data.name.as_str()))?;
        }
    }
    txn.delete_table(v1::RECORDS)?;
    txn.delete_table(v1::RECORD_ZONE)?;
    txn.delete_multimap_table(v1::RECORD_NAMES)?;
    Ok(())
}

/// Version 4: the id → key index moves into memory (`record_index`): writing it put two more
/// pages into every create's flush.
fn drop_record_keys(txn: &WriteTransaction) -> Result<(), StoreError> {
    txn.delete_table(v3::RECORD_KEYS)?;
    Ok(())
}

/// The tables of schema 3.
mod v3 {
    use super::*;

    pub const RECORD_KEYS: TableDefinition<&str, (&str, &str)> = TableDefinition::new("record_keys");
    /// Records by (zone id, name, record id) as text, JSON values (schemas 3 to 5).
    pub const RECORDS: TableDefinition<(&str, &str, &str), &[u8]> = TableDefinition::new("zone_records");
}

/// The record tables of schemas 1 and 2.
mod v1 {
    use super::*;

    pub const RECORDS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("records");
    pub const RECORD_ZONE: TableDefinition<&str, &str> = TableDefinition::new("record_zone");
    pub const RECORD_NAMES: MultimapTableDefinition<(&str, &str), &str> = MultimapTableDefinition::new("record_names");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::record::{RecordData, RecordType};
    use crate::store::{Read, Store};
    use redb::ReadableDatabase;

    const ZONE: &str = "dom_0000000000000000";

    fn id(n: u128) -> String {
        crate::domain::id_from_value("rec_", n)
    }

    fn record(id: &str, name: &str, content: &str) -> Record {
        let data =
            RecordData { rtype: RecordType::A, name: name.into(), content: content.into(), ttl: 300, priority: None };
        Record { id: id.into(), zone_id: ZONE.into(), data, created_at: 1, updated_at: 1 }
    }

    /// A schema-2 file: the records in their old table with both old indexes.
    fn write_schema_2(path: &std::path::Path, records: &[Record]) -> Result<(), StoreError> {
        let db = Database::create(path)?;
        let txn = db.begin_write()?;
        create_tables(&txn)?;
        add_tsig_keys(&txn)?;
        txn.open_table(META)?.insert("schema_version", "2")?;
        {
            let (mut table, mut zones, mut names) = (
                txn.open_table(v1::RECORDS)?,
                txn.open_table(v1::RECORD_ZONE)?,
                txn.open_multimap_table(v1::RECORD_NAMES)?,
            );
            for r in records {
                table.insert((r.zone_id.as_str(), r.id.as_str()), super::super::encode(r).as_slice())?;
                zones.insert(r.id.as_str(), r.zone_id.as_str())?;
                names.insert((r.zone_id.as_str(), r.data.name.as_str()), r.id.as_str())?;
            }
            let entry = crate::store::JournalEntry {
                from_serial: 1,
                to_serial: 2,
                at: 5,
                removed: vec![],
                added: records.to_vec(),
                author: None,
            };
            txn.open_table(JOURNAL)?.insert((ZONE, 2), super::super::encode(&entry).as_slice())?;
        }
        txn.commit()?;
        Ok(())
    }

    #[test]
    fn schema_2_records_are_rekeyed_compacted_and_found_by_id() -> Result<(), StoreError> {
        let dir = std::env::temp_dir().join(format!("nsbox-migrate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let path = dir.join("v2.redb");
        let records =
            [record(&id(1), "www", "192.0.2.1"), record(&id(2), "@", "192.0.2.2"), record(&id(3), "www", "192.0.2.3")];
        write_schema_2(&path, &records)?;

        let store = Store::open(&path, 1 << 20)?;
        store.read(|r| {
            let ids = |rs: Vec<Record>| rs.into_iter().map(|r| r.id).collect::<Vec<_>>();
            assert_eq!(ids(r.records(ZONE)?), [id(1), id(2), id(3)], "creation order");
            assert_eq!(ids(r.records_named(ZONE, "www")?), [id(1), id(3)]);
            assert_eq!(r.record(&id(2))?.map(|r| r.data.content), Some("192.0.2.2".into()));
            assert!(r.record(&id(4))?.is_none());
            let journal = r.journal_since(ZONE, 1)?;
            assert_eq!(journal.len(), 1);
            assert_eq!(journal[0].added, records, "the journal survives the change of format");
            Ok::<_, StoreError>(())
        })?;
        drop(store);
        let version = Database::open(&path)?
            .begin_read()?
            .open_table(META)?
            .get("schema_version")?
            .map(|v| v.value().to_string());
        assert_eq!(version.as_deref(), Some(LATEST.to_string().as_str()));
        std::fs::remove_dir_all(&dir).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(())
    }
}
