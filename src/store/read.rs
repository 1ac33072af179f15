//! Reads, the same over a read snapshot and inside a write transaction; lookups of a record by
//! its id alone go through the in-memory record index.

use redb::{ReadTransaction, ReadableDatabase, ReadableTable};

use super::record_index::{self, Place};
use super::tables::*;
use super::{AuditEntry, JournalEntry, Store, StoreError, Txn, codec, decode};
use crate::domain::auth::{Token, User};
use crate::domain::id_value;
use crate::domain::record::Record;
use crate::domain::tsig::TsigKey;
use crate::domain::zone::Zone;

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
        self.raw_get(ZONES, id)?.map(|b| self.with_dnssec(decode(&b)?)).transpose()
    }

    /// The zone with its DNSSEC keys, which are kept apart.
    #[doc(hidden)]
    fn with_dnssec(&self, mut zone: Zone) -> Result<Zone, StoreError> {
        zone.dnssec = self.raw_get(DNSSEC, &zone.id)?.map(|b| decode(&b)).transpose()?;
        Ok(zone)
    }

    fn zone_by_domain(&self, domain: &str) -> Result<Option<Zone>, StoreError> {
        match self.raw_index(ZONE_DOMAINS, domain)? {
            Some(id) => self.zone(&id),
            None => Ok(None),
        }
    }

    fn zones(&self) -> Result<Vec<Zone>, StoreError> {
        self.raw_all(ZONES)?.iter().map(|b| self.with_dnssec(decode(b)?)).collect()
    }

    /// The zone's records in creation order.
    fn records(&self, zone_id: &str) -> Result<Vec<Record>, StoreError> {
        let mut rows = Vec::new();
        self.raw_each_record(zone_id, None, &mut |name, id, bytes| {
            rows.push((id, name.to_string(), bytes.to_vec()));
            Ok(())
        })?;
        // Stored by name; record ids sort by creation time. Sorted before decoding, the records
        // lie in memory in the order they are then read (sorting decoded ones cost a 10,000-record
        // list a third more time).
        rows.sort_unstable_by_key(|row| row.0);
        rows.iter().map(|(id, name, bytes)| codec::record_from(zone_id, name, *id, bytes)).collect()
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
/// Called with each stored record's name, id (as its number) and encoded value.
type RowVisitor<'a> = dyn FnMut(&str, u128, &[u8]) -> Result<(), StoreError> + 'a;
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
                let Some(zone_key) = id_value("dom_", zone_id) else { return Ok(()) };
                let table = self.$inner().open_table(RECORDS)?;
                for row in table.range((zone_key, name.unwrap_or(""), 0)..)? {
                    let (key, value) = row?;
                    let (zone, at, id) = key.value();
                    if zone != zone_key || name.is_some_and(|name| at != name) {
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
pub(super) fn record_at(
    records: &impl ReadableTable<(u128, &'static str, u128), &'static [u8]>,
    place: Option<Place>,
    key: u128,
) -> Result<Option<Record>, StoreError> {
    let Some(place) = place else {
        return Ok(None);
    };
    let found = records.get((place.zone(), place.name(), key))?;
    found.map(|v| codec::record_from(&place.zone_id(), place.name(), key, v.value())).transpose()
}

/// A read transaction, with the store it came from for lookups by record id.
pub struct Snapshot<'a> {
    pub(super) txn: ReadTransaction,
    pub(super) store: &'a Store,
}

impl Snapshot<'_> {
    pub(super) fn read_txn(&self) -> &ReadTransaction {
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
        if let Some(found) = record_at(&self.txn.open_table(RECORDS)?, index.get(key), key)? {
            return Ok(Some(found));
        }
        let (txn, place) = index.settled(|| (self.store.db.begin_read(), index.get(key)));
        record_at(&txn?.open_table(RECORDS)?, place, key)
    }
}
impl_read!(Snapshot<'_>, read_txn);
impl_read!(Txn<'_>, write_txn);
