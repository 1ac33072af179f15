//! Compact binary values for the tables that grow with records, RECORDS and JOURNAL (schema
//! 6). JSON spelled every field name in every row and repeated the key's zone, name and id
//! in the value: about 1 KB of data file per record once journaled. Here a record's value is
//! varints and its content, and what the key says is not said again.

use super::{Author, JournalEntry, StoreError};
use crate::domain::record::{Record, RecordData, RecordType};

/// The first byte of every value, so that a later format can be told from this one.
const FORMAT: u8 = 1;
/// The first byte of a journal entry compressed with LZ4: then its length, then the block.
/// A bulk change's thousands of records share names, ids' time prefix and timestamps.
const COMPRESSED: u8 = 2;
/// Entries smaller than this are stored as they are: too little to gain.
const COMPRESS_FROM: usize = 512;
/// No entry decompresses to more than this: a larger length is damage.
const MAX_ENTRY: usize = 1 << 28;

struct Writer(Vec<u8>);

impl Writer {
    fn new() -> Self {
        Writer(vec![FORMAT])
    }

    /// LEB128.
    fn uint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.0.push((value as u8) | 0x80);
            value >>= 7;
        }
        self.0.push(value as u8);
    }

    fn int(&mut self, value: i64) {
        self.uint(((value << 1) ^ (value >> 63)) as u64);
    }

    fn text(&mut self, text: &str) {
        self.uint(text.len() as u64);
        self.0.extend_from_slice(text.as_bytes());
    }
}

struct Reader<'a>(&'a [u8]);

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("a stored {what} is cut short or malformed"))
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8], what: &str) -> Result<Self, StoreError> {
        match bytes.split_first() {
            Some((&FORMAT, rest)) => Ok(Reader(rest)),
            _ => Err(corrupt(what)),
        }
    }

    fn uint(&mut self) -> Result<u64, StoreError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self.0.split_first().ok_or_else(|| corrupt("value"))?;
            self.0 = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(corrupt("number"))
    }

    fn int(&mut self) -> Result<i64, StoreError> {
        let raw = self.uint()?;
        Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
    }

    fn small<T: TryFrom<u64>>(&mut self) -> Result<T, StoreError> {
        T::try_from(self.uint()?).map_err(|_| corrupt("number"))
    }

    fn text(&mut self) -> Result<String, StoreError> {
        let len = self.small::<usize>()?;
        if len > self.0.len() {
            return Err(corrupt("text"));
        }
        let (text, rest) = self.0.split_at(len);
        self.0 = rest;
        String::from_utf8(text.to_vec()).map_err(|_| corrupt("text"))
    }
}

/// Times are written as the difference from a time near them (a journal entry's own time, or
/// 2026-01-01 for a record), so most take a byte or four instead of five.
const EPOCH: i64 = 1_767_225_600;

fn put_fields(w: &mut Writer, r: &Record, near: i64) {
    w.uint(u64::from(r.data.rtype.0));
    w.uint(u64::from(r.data.ttl));
    w.uint(r.data.priority.map_or(0, |p| u64::from(p) + 1));
    w.int(r.created_at.wrapping_sub(near));
    w.int(r.updated_at.wrapping_sub(r.created_at));
    w.text(&r.data.content);
}

fn take_fields(r: &mut Reader, zone_id: &str, name: String, id: String, near: i64) -> Result<Record, StoreError> {
    let rtype = RecordType(r.small()?);
    let ttl = r.small()?;
    let priority = match r.small::<u32>()? {
        0 => None,
        p => Some(u16::try_from(p - 1).map_err(|_| corrupt("priority"))?),
    };
    let created_at = near.wrapping_add(r.int()?);
    let updated_at = created_at.wrapping_add(r.int()?);
    let content = r.text()?;
    let data = RecordData { rtype, name, content, ttl, priority };
    Ok(Record { id, zone_id: zone_id.to_string(), data, created_at, updated_at })
}

/// A record's value in RECORDS: its key holds the zone, the name and the id.
pub fn record_value(record: &Record) -> Vec<u8> {
    let mut w = Writer::new();
    put_fields(&mut w, record, EPOCH);
    w.0
}

/// A record from its key (the zone's id, its name, its id as a number) and its value.
pub fn record_from(zone_id: &str, name: &str, id: u128, bytes: &[u8]) -> Result<Record, StoreError> {
    let id = crate::domain::id_from_value("rec_", id);
    take_fields(&mut Reader::new(bytes, "record")?, zone_id, name.to_string(), id, EPOCH)
}

/// A journal entry's value: its key holds the zone and the serial it made.
pub fn journal_value(entry: &JournalEntry) -> Vec<u8> {
    let mut w = Writer::new();
    w.uint(u64::from(entry.from_serial));
    w.uint(u64::from(entry.to_serial));
    w.int(entry.at);
    match &entry.author {
        None => w.uint(0),
        Some(a) => {
            w.uint(1);
            [&a.actor, &a.via, &a.action].into_iter().for_each(|t| w.text(t));
            w.uint(u64::from(a.nanos));
        }
    }
    for records in [&entry.removed, &entry.added] {
        w.uint(records.len() as u64);
        for r in records {
            w.text(&r.id);
            w.text(&r.data.name);
            put_fields(&mut w, r, entry.at);
        }
    }
    if w.0.len() < COMPRESS_FROM {
        return w.0;
    }
    let mut packed = Writer(vec![COMPRESSED]);
    packed.uint(w.0.len() as u64);
    packed.0.extend_from_slice(&lz4_flex::block::compress(&w.0));
    packed.0
}

pub fn journal_from(zone_id: &str, bytes: &[u8]) -> Result<JournalEntry, StoreError> {
    let unpacked;
    let bytes = match bytes.split_first() {
        Some((&COMPRESSED, rest)) => {
            let mut r = Reader(rest);
            let len = r.small::<usize>()?;
            if len > MAX_ENTRY {
                return Err(corrupt("journal entry"));
            }
            unpacked = lz4_flex::block::decompress(r.0, len).map_err(|_| corrupt("journal entry"))?;
            unpacked.as_slice()
        }
        _ => bytes,
    };
    let mut r = Reader::new(bytes, "journal entry")?;
    let from_serial = r.small()?;
    let to_serial = r.small()?;
    let at = r.int()?;
    let author = match r.uint()? {
        0 => None,
        _ => Some(Author { actor: r.text()?, via: r.text()?, action: r.text()?, nanos: r.small()? }),
    };
    let mut lists = [Vec::new(), Vec::new()];
    for list in &mut lists {
        let count = r.small::<usize>()?;
        // Each record takes at least 8 bytes: a count beyond that is damage, not a reason to
        // reserve memory.
        list.reserve(count.min(r.0.len() / 8));
        for _ in 0..count {
            let (id, name) = (r.text()?, r.text()?);
            list.push(take_fields(&mut r, zone_id, name, id, at)?);
        }
    }
    let [removed, added] = lists;
    Ok(JournalEntry { from_serial, to_serial, at, removed, added, author })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(priority: Option<u16>) -> Record {
        let data = RecordData {
            rtype: RecordType::MX,
            name: "mail".into(),
            content: "mx.example.net".into(),
            ttl: 3600,
            priority,
        };
        Record {
            id: crate::domain::id_from_value("rec_", 1),
            zone_id: "dom_1".into(),
            data,
            created_at: 1_700_000_000,
            updated_at: 1_700_000_050,
        }
    }

    #[test]
    fn records_and_journal_entries_come_back_as_they_went_in() {
        for priority in [None, Some(0), Some(65_535)] {
            let r = record(priority);
            assert_eq!(record_from("dom_1", "mail", 1, &record_value(&r)).unwrap(), r);
        }
        let entry = JournalEntry {
            from_serial: 2026120400,
            to_serial: u32::MAX,
            at: -5,
            removed: vec![record(None)],
            added: vec![record(Some(10)), record(Some(20))],
            author: Some(Author {
                actor: "alice".into(),
                via: "console".into(),
                action: "record.create".into(),
                nanos: 7,
            }),
        };
        let back = journal_from("dom_1", &journal_value(&entry)).unwrap();
        assert_eq!(format!("{back:?}"), format!("{entry:?}"));
    }

    #[test]
    fn large_entries_are_compressed() {
        let many = (0..1000).map(|i| Record { id: format!("rec_{i:016}"), ..record(Some(10)) }).collect::<Vec<_>>();
        let entry = JournalEntry { from_serial: 1, to_serial: 2, at: 0, removed: vec![], added: many, author: None };
        let bytes = journal_value(&entry);
        assert_eq!(bytes[0], COMPRESSED);
        assert!(bytes.len() < 20_000, "{} bytes", bytes.len());
        assert_eq!(journal_from("dom_1", &bytes).unwrap().added, entry.added);
        let mut huge = Writer(vec![COMPRESSED]);
        huge.uint(1 << 40);
        huge.0.extend_from_slice(&bytes[4..]);
        assert!(journal_from("dom_1", &huge.0).is_err(), "a damaged length allocates nothing");
        for cut in [1, 2, 5, bytes.len() / 2, bytes.len() - 1] {
            assert!(journal_from("dom_1", &bytes[..cut]).is_err());
        }
    }

    #[test]
    fn damaged_values_are_errors_not_panics() {
        let bytes = journal_value(&JournalEntry {
            from_serial: 1,
            to_serial: 2,
            at: 0,
            removed: vec![],
            added: vec![record(Some(1))],
            author: None,
        });
        for cut in 0..bytes.len() {
            assert!(journal_from("dom_1", &bytes[..cut]).is_err());
        }
        assert!(
            record_from("z", "n", 1, &[FORMAT, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).is_err()
        );
        assert!(record_from("z", "n", 1, b"{\"json\":1}").is_err());
    }
}
