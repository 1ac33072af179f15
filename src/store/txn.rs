//! The write transaction: reads plus the narrow writes, each keeping the indexes in step.

use redb::{ReadableTable, WriteTransaction};

use super::read::record_at;
use super::record_index::{self, Moves, Place, RecordIndex};
use super::tables::*;
use super::{AuditEntry, JournalEntry, Read, Retention, StoreError, codec, encode};
use crate::domain::auth::{Token, User};
use crate::domain::record::Record;
use crate::domain::tsig::TsigKey;
use crate::domain::zone::Zone;

/// A write transaction: reads plus the narrow writes, each keeping the indexes in step.
pub struct Txn<'a> {
    pub(super) inner: WriteTransaction,
    pub(super) index: &'a RecordIndex,
    /// This transaction's changes to the record index, applied when it commits.
    pub(super) moves: Moves,
    pub(super) retention: Retention,
}

impl Txn<'_> {
    pub(super) fn write_txn(&self) -> &WriteTransaction {
        &self.inner
    }

    pub(super) fn find_record(&self, record_id: &str) -> Result<Option<Record>, StoreError> {
        let Some(key) = record_index::key(record_id) else {
            return Ok(None);
        };
        let place = match self.moves.get(&key) {
            Some(moved) => moved.clone(),
            None => self.index.get(key),
        };
        record_at(&self.inner.open_table(RECORDS)?, place, key)
    }

    /// Stores a new zone and claims its domain.
    pub fn add_zone(&mut self, zone: &Zone) -> Result<(), StoreError> {
        self.inner.open_table(ZONE_DOMAINS)?.insert(zone.domain.as_str(), zone.id.as_str())?;
        self.put_zone(zone)
    }

    /// Replaces a stored zone. A zone's domain never changes, so its index entry stays: every
    /// table a commit touches costs the flush pages.
    pub fn put_zone(&mut self, zone: &Zone) -> Result<(), StoreError> {
        let keys = zone.dnssec.as_ref().map(encode);
        let shown = Zone { dnssec: None, ..zone.clone() };
        self.inner.open_table(ZONES)?.insert(zone.id.as_str(), encode(&shown).as_slice())?;
        let mut dnssec = self.inner.open_table(DNSSEC)?;
        match keys {
            Some(keys) => dnssec.insert(zone.id.as_str(), keys.as_slice())?,
            None => dnssec.remove(zone.id.as_str())?,
        };
        Ok(())
    }

    /// Removes a zone with its records, indexes and journal.
    pub fn delete_zone(&mut self, zone: &Zone) -> Result<(), StoreError> {
        for record in self.records(&zone.id)? {
            self.delete_record(&record)?;
        }
        self.inner.open_table(ZONES)?.remove(zone.id.as_str())?;
        self.inner.open_table(DNSSEC)?.remove(zone.id.as_str())?;
        self.inner.open_table(ZONE_DOMAINS)?.remove(zone.domain.as_str())?;
        let mut journal = self.inner.open_table(JOURNAL)?;
        journal.retain_in((zone.id.as_str(), 0)..=(zone.id.as_str(), u32::MAX), |_, _| false)?;
        Ok(())
    }

    /// Inserts or replaces a record; `previous` is its stored version when replacing.
    pub fn put_record(&mut self, record: &Record, previous: Option<&Record>) -> Result<(), StoreError> {
        let name = record.data.name.as_str();
        let (key, place) = Place::of(&record.zone_id, name, &record.id)?;
        let mut records = self.inner.open_table(RECORDS)?;
        if let Some(old) = previous.filter(|old| old.data.name != name) {
            records.remove((place.zone(), old.data.name.as_str(), key))?;
        }
        records.insert((place.zone(), name, key), codec::record_value(record).as_slice())?;
        if previous.is_none_or(|old| old.data.name != name) {
            self.moves.insert(key, Some(place));
        }
        Ok(())
    }

    pub fn delete_record(&mut self, record: &Record) -> Result<(), StoreError> {
        let (key, place) = Place::of(&record.zone_id, &record.data.name, &record.id)?;
        self.inner.open_table(RECORDS)?.remove((place.zone(), place.name(), key))?;
        self.moves.insert(key, None);
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
