//! History stays within its retention: the oldest journal entries of a zone, and the oldest
//! audit entries, go as new ones come.

use super::{AuditEntry, JournalEntry, Read, Retention, Store, StoreError};

fn entry(from: u32, to: u32) -> JournalEntry {
    JournalEntry { from_serial: from, to_serial: to, at: 0, removed: vec![], added: vec![], author: None }
}

fn audit() -> AuditEntry {
    AuditEntry {
        seq: 0,
        at: 0,
        nanos: 0,
        actor: "a".into(),
        via: "cli".into(),
        action: "zone.create".into(),
        zone_id: None,
        zone: None,
        before: None,
        after: None,
    }
}

#[test]
fn journal_and_audit_keep_only_their_newest_entries() -> Result<(), StoreError> {
    let dir = tempfile::tempdir().map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let store =
        Store::open(&dir.path().join("d.redb"), 1 << 20)?.with_retention(Retention { journal_per_zone: 3, audit: 4 });
    for serial in 1..=10 {
        store.write(|txn| {
            txn.append_journal("dom_a", &entry(serial - 1, serial))?;
            txn.append_journal("dom_b", &entry(serial + 99, serial + 100))?;
            txn.append_audit(audit())
        })?;
    }
    store.read(|r| {
        let serials = |zone| r.journal_since(zone, 0).map(|e| e.iter().map(|e| e.to_serial).collect::<Vec<_>>());
        assert_eq!(serials("dom_a")?, [8, 9, 10]);
        assert_eq!(serials("dom_b")?, [108, 109, 110], "each zone keeps its own");
        let seqs: Vec<u64> = r.audit(u64::MAX, 100)?.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [10, 9, 8, 7]);
        Ok(())
    })
}
