//! Who changed what, from the audit table: everything for admins, a user's own zones and
//! actions for everyone else.

use super::{Actor, Error, Result, Service};
use crate::store::{AuditEntry, Read};

/// How many entries are read back at most when filtering.
const SCAN: usize = 10_000;

impl Service {
    /// Newest first; optionally one zone's only.
    pub fn history(&self, actor: &Actor, zone_id: Option<&str>, limit: usize) -> Result<Vec<AuditEntry>> {
        self.store.read(|r| {
            if let Some(id) = zone_id {
                self.visible_zone(r, actor, id)?;
            }
            let own_zones: Vec<String> = r.zones()?.into_iter().filter(|z| actor.sees(z)).map(|z| z.id).collect();
            let entries = r.audit(u64::MAX, SCAN)?;
            Ok::<_, Error>(
                entries
                    .into_iter()
                    .filter(|e| zone_id.is_none_or(|id| e.zone_id.as_deref() == Some(id)))
                    .filter(|e| {
                        actor.admin
                            || e.actor == actor.username
                            || e.zone_id.as_ref().is_some_and(|z| own_zones.contains(z))
                    })
                    .take(limit)
                    .collect(),
            )
        })
    }
}
