//! How much one user may keep: zones and records. Every way records come in — one at a
//! time, bulk, templates, zone-file import, RFC 2136 — passes the one write path
//! (`Service::change_zone`), which asks here before it commits. Administrators have no quota.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use super::{Actor, Error, Result};
use crate::domain::zone::Zone;

#[derive(Debug, Clone, Copy)]
pub struct Quotas {
    pub zones_per_user: u64,
    pub records_per_user: u64,
}

impl Default for Quotas {
    fn default() -> Self {
        Self { zones_per_user: 1_000, records_per_user: 200_000 }
    }
}

/// Records each user holds, learnt from their zones on the user's first write and kept up to
/// date by every change after it.
#[derive(Default)]
pub(super) struct Usage(Mutex<HashMap<String, u64>>);

impl Usage {
    /// Checks that `added` more records fit `actor`'s quota; `zones` lists every zone, read
    /// only when this user's count is not known yet.
    pub fn check_records(
        &self,
        quotas: &Quotas,
        actor: &Actor,
        added: u64,
        zones: impl FnOnce() -> Result<Vec<Zone>>,
    ) -> Result<()> {
        if actor.admin || added == 0 {
            return Ok(());
        }
        let held = match self.held(&actor.user_id) {
            Some(held) => held,
            None => {
                let held = zones()?.iter().filter(|z| z.owner == actor.user_id).map(|z| z.record_count).sum();
                self.map().insert(actor.user_id.clone(), held);
                held
            }
        };
        if held + added > quotas.records_per_user {
            return Err(Error::Forbidden(format!(
                "Record quota reached: {held} of {} records are in use, and this change adds {added}",
                quotas.records_per_user
            )));
        }
        Ok(())
    }

    /// A committed change to `owner`'s records.
    pub fn changed(&self, owner: &str, added: usize, removed: usize) {
        if let Some(held) = self.map().get_mut(owner) {
            *held = (*held + added as u64).saturating_sub(removed as u64);
        }
    }

    fn held(&self, user_id: &str) -> Option<u64> {
        self.map().get(user_id).copied()
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, u64>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Checks that `actor` may create one more zone, given every zone.
pub(super) fn check_zones(quotas: &Quotas, actor: &Actor, zones: &[Zone]) -> Result<()> {
    let held = zones.iter().filter(|z| z.owner == actor.user_id).count() as u64;
    if !actor.admin && held >= quotas.zones_per_user {
        return Err(Error::Forbidden(format!("Zone quota reached: {held} of {} zones", quotas.zones_per_user)));
    }
    Ok(())
}
