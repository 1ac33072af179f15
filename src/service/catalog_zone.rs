//! The catalog zone (RFC 9432, version 2): one zone listing every zone this server serves,
//! so a BIND, Knot or NSD secondary configured once with it follows every zone by itself.
//! It changes in the same commit that creates or deletes a zone, with a journal entry of
//! its own, so secondaries take it by IXFR.

use super::{Result, Service};
use crate::domain::now;
use crate::domain::record::{Record, RecordData, RecordType};
use crate::domain::zone::{Zone, next_serial, today};
use crate::store::{JournalEntry, Read, Txn};

/// The catalog's id in the journal: no zone id looks like it (theirs start with `dom_`).
const CATALOG_ID: &str = "catalog";
/// Where the catalog's serial is kept, in the meta table.
const SERIAL_KEY: &str = "catalog_serial";

/// A zone's entries in the catalog. The member label is the zone's id, which never changes,
/// so a secondary never mistakes a zone for a new one (RFC 9432 §4.1).
fn member_records(zone: &Zone) -> Vec<Record> {
    let member = format!("{}.zones", zone.id);
    let mut entries = vec![(RecordType::PTR, member.clone(), zone.domain.clone())];
    if let Some(group) = &zone.catalog_group {
        entries.push((RecordType::TXT, format!("group.{member}"), group.clone()));
    }
    entries.into_iter().map(|(rtype, name, content)| entry(rtype, name, content)).collect()
}

/// One catalog record (TXT as plain text, as records are stored). TTLs mean nothing in a
/// catalog (RFC 9432 §4): 0.
fn entry(rtype: RecordType, name: String, content: String) -> Record {
    let data = RecordData { rtype, name, content, ttl: 0, priority: None };
    Record { id: String::new(), zone_id: CATALOG_ID.into(), data, created_at: 0, updated_at: 0 }
}

impl Service {
    /// Serves the catalog zone as `name`, a parsed domain (none: no catalog).
    pub fn with_catalog_zone(mut self, name: Option<String>) -> Self {
        self.catalog_zone = name;
        self
    }

    /// The catalog zone's name, when one is served.
    pub fn catalog_zone(&self) -> Option<&str> {
        self.catalog_zone.as_deref()
    }

    /// Whether `domain` is the catalog zone or overlaps it: no user zone may.
    pub(super) fn is_catalog_name(&self, domain: &str) -> bool {
        self.catalog_zone.as_deref().is_some_and(|catalog| super::zones::overlaps(catalog, domain))
    }

    /// Records in the catalog, inside the transaction that changed the zones, that `before`
    /// became `after` (a zone created: no `before`; deleted: no `after`). Returns the change,
    /// to be served once committed (`serve_catalog_change`), when a catalog is served.
    pub(super) fn catalog_changed(
        &self,
        txn: &mut Txn,
        before: Option<&Zone>,
        after: Option<&Zone>,
    ) -> Result<Option<JournalEntry>> {
        let removed = before.map(member_records).unwrap_or_default();
        let added = after.map(member_records).unwrap_or_default();
        if removed == added {
            return Ok(None);
        }
        // The serial moves even while no catalog is served, so a catalog turned on later
        // never shows secondaries new members under a serial they already hold.
        let from_serial = catalog_serial(txn)?;
        let to_serial = next_serial(from_serial, today());
        txn.put_meta(SERIAL_KEY, &to_serial.to_string())?;
        if self.catalog_zone.is_none() {
            return Ok(None);
        }
        let entry = JournalEntry { from_serial, to_serial, at: now(), removed, added, author: None };
        txn.append_journal(CATALOG_ID, &entry)?;
        Ok(Some(entry))
    }

    /// Serves a committed change of the catalog by applying it to the catalog being served,
    /// as a zone's record changes are; the whole catalog when that cannot be done.
    pub(super) fn serve_catalog_change(&self, change: Option<JournalEntry>) -> Result<()> {
        let (Some(domain), Some(change)) = (&self.catalog_zone, change) else { return Ok(()) };
        let catalog = Zone::new(CATALOG_ID.into(), String::new(), domain.clone(), change.to_serial);
        if self.nameserver.apply(&catalog, change.from_serial, &change.removed, &change.added) {
            return Ok(());
        }
        self.publish_catalog()
    }

    /// Serves the catalog as committed: every zone a member.
    pub(super) fn publish_catalog(&self) -> Result<()> {
        let Some(domain) = &self.catalog_zone else { return Ok(()) };
        let (serial, zones) = self.store.read(|r| Ok::<_, super::Error>((catalog_serial(r)?, r.zones()?)))?;
        let catalog = Zone::new(CATALOG_ID.into(), String::new(), domain.clone(), serial);
        let mut records = vec![
            entry(RecordType::NS, "@".into(), "invalid".into()),
            entry(RecordType::TXT, "version".into(), "2".into()),
        ];
        records.extend(zones.iter().flat_map(member_records));
        self.nameserver.publish(&catalog, &mut |add| {
            records.drain(..).for_each(&mut *add);
            Ok(())
        })?;
        Ok(())
    }
}

/// The catalog's serial as committed; a new catalog starts at today's first.
fn catalog_serial(reader: &impl Read) -> Result<u32> {
    let stored = reader.meta(SERIAL_KEY)?.and_then(|s| s.parse().ok());
    Ok(stored.unwrap_or_else(|| next_serial(0, today())))
}
