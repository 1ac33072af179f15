//! Zones: list, read, create, delete.

use super::history::record_change;
use super::{Actor, Error, Result, Service, audit, quota};
use crate::domain::auth::Scope;
use crate::domain::record::Record;
use crate::domain::zone::{Zone, ZoneSettings, next_serial, today};
use crate::domain::{ValidationError, name, new_id, now};
use crate::store::{JournalEntry, Read};

impl Service {
    /// The actor's zones, optionally only the one with exactly `domain`.
    pub fn list_zones(&self, actor: &Actor, domain: Option<&str>) -> Result<Vec<Zone>> {
        actor.require(Scope::List)?;
        let wanted = domain.map(|d| name::parse_domain(d).unwrap_or_else(|_| d.to_string()));
        let zones = self.store.read(|r| Ok::<_, Error>(r.zones()?))?;
        let mut zones: Vec<Zone> =
            zones.into_iter().filter(|z| actor.sees(z) && wanted.as_ref().is_none_or(|d| &z.domain == d)).collect();
        zones.sort_by(|a, b| a.domain.cmp(&b.domain));
        Ok(zones)
    }

    /// The id of a domain's zone and its owner acting through the offline CLI.
    pub fn zone_owner(&self, domain: &str) -> Result<(String, Actor)> {
        let domain = name::parse_domain(domain)?;
        self.store.read(|r| {
            let zone = r.zone_by_domain(&domain)?.ok_or(Error::NotFound("Zone"))?;
            let owner = r.user(&zone.owner)?.ok_or(Error::NotFound("User"))?;
            Ok((zone.id, Actor::user(&owner, "cli")))
        })
    }

    /// The zone of `domain` as the actor sees it (PowerDNS names zones by their domain).
    pub fn zone_named(&self, actor: &Actor, domain: &str) -> Result<Zone> {
        actor.require(Scope::Read)?;
        let domain = name::parse_domain(domain).map_err(|_| Error::NotFound("Zone"))?;
        self.store.read(|r| match r.zone_by_domain(&domain)? {
            Some(zone) if actor.sees(&zone) => Ok(zone),
            _ => Err(Error::NotFound("Zone")),
        })
    }

    /// Tells the zone's secondaries of its current serial again.
    pub fn notify_zone(&self, actor: &Actor, zone_id: &str) -> Result<()> {
        actor.require(Scope::Update)?;
        let zone = self.store.read(|r| self.visible_zone(r, actor, zone_id))?;
        self.nameserver.renotify(&zone);
        Ok(())
    }

    pub fn get_zone(&self, actor: &Actor, zone_id: &str) -> Result<(Zone, Vec<Record>)> {
        actor.require(Scope::Read)?;
        self.store.read(|r| {
            let zone = self.visible_zone(r, actor, zone_id)?;
            let records = r.records(&zone.id)?;
            Ok((zone, records))
        })
    }

    pub fn create_zone(&self, actor: &Actor, domain: &str) -> Result<Zone> {
        actor.require(Scope::Create)?;
        actor.require_all_names()?;
        let domain = name::parse_domain(domain)?;
        if !actor.may_use_domain(&domain) {
            return Err(Error::Forbidden(format!("Token is not allowed to manage {domain}")));
        }
        if !actor.admin && name::is_public_suffix(&domain) {
            return Err(Error::Validation(ValidationError::new(
                "domain",
                format!("{domain} is a public suffix or special-use name: only an administrator can create it"),
            )));
        }
        let zone = self.store.write(|txn| {
            // A zone inside or above another user's zone would let one user answer for
            // another's names: refused with the same words as an existing zone, so nothing leaks.
            let zones = txn.zones()?;
            let taken =
                zones.iter().any(|z| z.domain == domain || (z.owner != actor.user_id && overlaps(&z.domain, &domain)));
            if taken || self.is_catalog_name(&domain) {
                return Err(Error::Validation(ValidationError::new("domain", format!("Zone {domain} already exists"))));
            }
            quota::check_zones(&self.quotas, actor, &zones)?;
            let zone = Zone::new(new_id("dom_"), actor.user_id.clone(), domain.clone(), next_serial(0, today()));
            txn.add_zone(&zone)?;
            let catalog = self.catalog_changed(txn, None, Some(&zone))?;
            txn.append_audit(audit(actor, "zone.create", Some(&zone), None, serde_json::to_value(&zone).ok()))?;
            Ok((zone, catalog))
        })?;
        let (zone, catalog) = zone;
        self.publish(&zone.id)?;
        self.serve_catalog_change(catalog)?;
        Ok(zone)
    }

    /// Changes SOA timers and transfer settings; the SOA changes, so the serial does too.
    pub fn update_zone_settings(&self, actor: &Actor, zone_id: &str, settings: &ZoneSettings) -> Result<Zone> {
        actor.require(Scope::Update)?;
        actor.require_all_names()?;
        let zone = self.store.write(|txn| {
            let before = self.visible_zone(txn, actor, zone_id)?;
            let mut zone = before.clone();
            settings.apply(&mut zone)?;
            let outside = zone.notify.iter().find(|t| !self.notify_to.iter().any(|net| net.contains(&t.ip())));
            if let Some(target) = outside.filter(|_| !actor.admin && zone.notify != before.notify) {
                return Err(Error::Validation(ValidationError::new(
                    "notify",
                    format!("{target} is outside the networks this server sends NOTIFY to (--allow-notify-to)"),
                )));
            }
            if zone == before {
                return Ok::<_, Error>((zone, None));
            }
            zone.serial = next_serial(zone.serial, today());
            zone.updated_at = now();
            txn.put_zone(&zone)?;
            let catalog = self.catalog_changed(txn, Some(&before), Some(&zone))?;
            let entry = JournalEntry {
                from_serial: before.serial,
                to_serial: zone.serial,
                at: zone.updated_at,
                removed: vec![],
                added: vec![],
                // Audited below, with the settings before and after.
                author: None,
            };
            txn.append_journal(&zone.id, &entry)?;
            txn.append_audit(audit(
                actor,
                "zone.settings",
                Some(&zone),
                serde_json::to_value(&before).ok(),
                serde_json::to_value(&zone).ok(),
            ))?;
            Ok((zone, catalog))
        })?;
        let (zone, catalog) = zone;
        self.publish(&zone.id)?;
        self.serve_catalog_change(catalog)?;
        Ok(zone)
    }

    pub fn delete_zone(&self, actor: &Actor, zone_id: &str) -> Result<()> {
        actor.require(Scope::Delete)?;
        actor.require_all_names()?;
        let zone = self.store.write(|txn| {
            let zone = self.visible_zone(txn, actor, zone_id)?;
            // The journal goes with the zone; who changed its records stays in the audit table.
            for entry in txn.journal_newest(&zone.id, usize::MAX)?.into_iter().rev() {
                if let Some(change) = record_change(&zone, entry) {
                    txn.append_audit(change)?;
                }
            }
            txn.delete_zone(&zone)?;
            let catalog = self.catalog_changed(txn, Some(&zone), None)?;
            txn.append_audit(audit(actor, "zone.delete", Some(&zone), serde_json::to_value(&zone).ok(), None))?;
            Ok::<_, Error>((zone, catalog))
        })?;
        let (zone, catalog) = zone;
        self.nameserver.remove(&zone.domain);
        self.serve_catalog_change(catalog)?;
        self.usage.changed(&zone.owner, 0, zone.record_count as usize);
        Ok(())
    }
}

/// Whether one domain is the other or lies beneath it.
pub(super) fn overlaps(a: &str, b: &str) -> bool {
    let below = |child: &str, parent: &str| child.strip_suffix(parent).is_some_and(|rest| rest.ends_with('.'));
    a == b || below(a, b) || below(b, a)
}
