//! Who changed what: the audit table for zones, users, tokens and keys, and the zones'
//! journals for their records. Everything for admins; a user's own zones and actions for
//! everyone else.

use super::{Actor, Error, Result, Service};
use crate::domain::record::Record;
use crate::domain::zone::Zone;
use crate::store::{AuditEntry, JournalEntry, Read};

/// How many audit entries are read back at most when filtering.
const SCAN: usize = 10_000;

impl Service {
    /// Newest first; optionally one zone's only.
    pub fn history(&self, actor: &Actor, zone_id: Option<&str>, limit: usize) -> Result<Vec<AuditEntry>> {
        self.store.read(|r| {
            let mut zones: Vec<Zone> = match zone_id {
                Some(id) => vec![self.visible_zone(r, actor, id)?],
                None => r.zones()?.into_iter().filter(|z| actor.admin || actor.sees(z)).collect(),
            };
            let mut entries: Vec<AuditEntry> = r
                .audit(u64::MAX, SCAN)?
                .into_iter()
                .filter(|e| zone_id.is_none_or(|id| e.zone_id.as_deref() == Some(id)))
                .filter(|e| {
                    actor.admin
                        || e.actor == actor.username
                        || e.zone_id.as_ref().is_some_and(|z| zones.iter().any(|own| &own.id == z))
                })
                .take(limit)
                .collect();
            let newest_first = |entries: &mut Vec<AuditEntry>| {
                entries.sort_by_key(|e| std::cmp::Reverse((e.at, e.nanos, e.seq)));
                entries.truncate(limit);
            };
            newest_first(&mut entries);
            // Most recently changed zones first: once `limit` entries are newer than a zone's
            // last change, neither it nor any zone after it can add one.
            zones.sort_by_key(|zone| std::cmp::Reverse(zone.updated_at));
            for zone in &zones {
                if entries.len() == limit && entries.last().is_some_and(|oldest| oldest.at > zone.updated_at) {
                    break;
                }
                let journal = r.journal_newest(&zone.id, limit)?;
                entries.extend(journal.into_iter().filter_map(|entry| record_change(zone, entry)));
                newest_first(&mut entries);
            }
            Ok::<_, Error>(entries)
        })
    }
}

/// A journaled record change as the audit entry it stands for (None for entries audited in
/// the audit table itself).
pub(super) fn record_change(zone: &Zone, entry: JournalEntry) -> Option<AuditEntry> {
    let author = entry.author?;
    Some(AuditEntry {
        seq: 0,
        at: entry.at,
        nanos: author.nanos,
        actor: author.actor,
        via: author.via,
        action: author.action,
        zone_id: Some(zone.id.clone()),
        zone: Some(zone.domain.clone()),
        before: as_json(&entry.removed),
        after: as_json(&entry.added),
    })
}

/// One record as itself, several as a list, none as nothing.
fn as_json(records: &[Record]) -> Option<serde_json::Value> {
    match records {
        [] => None,
        [one] => serde_json::to_value(one).ok(),
        many => serde_json::to_value(many).ok(),
    }
}
