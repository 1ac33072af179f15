//! Turning DNSSEC on and off for a zone. The nameserver signs every version it serves; here
//! the keys are made and kept, and the way out is made safe: CDS/CDNSKEY "delete" first
//! (RFC 8078), unsigned only when the operator says the parent's DS is gone.

use super::{Actor, Error, Result, Service, audit};
use crate::domain::Timestamp;
use crate::domain::auth::Scope;
use crate::domain::dnssec::{Algorithm, Denial, Dnssec, Phase, SigningKey};
use crate::domain::now;
use crate::domain::zone::{Zone, next_serial, today};
use crate::store::Read;

/// Signatures are made valid for about two weeks; re-signing starts with a third of that left.
pub const RESIGN_BEFORE: i64 = 14 * 86_400 / 3;

impl Service {
    /// The zone, with its DNSSEC state, for one who may read it.
    pub fn dnssec(&self, actor: &Actor, zone_id: &str) -> Result<Zone> {
        actor.require(Scope::Read)?;
        self.store.read(|r| self.visible_zone(r, actor, zone_id))
    }

    /// Signs the zone with a new key of `algorithm`; true when it was not signed before. A zone
    /// signed already keeps its keys (a change of algorithm is a key rollover, not this).
    pub fn enable_dnssec(
        &self,
        actor: &Actor,
        zone_id: &str,
        algorithm: Algorithm,
        denial: Denial,
    ) -> Result<(Zone, bool)> {
        actor.require(Scope::Update)?;
        let key =
            SigningKey::generate(algorithm, now()).map_err(|e| Error::Storage(crate::store::StoreError::Corrupt(e)))?;
        let mut enabled = false;
        let zone = self.change_dnssec(actor, zone_id, |dnssec| match dnssec {
            Some(current) if current.phase == Phase::Signed => None,
            Some(current) => Some(Some(Dnssec { phase: Phase::Signed, ..current.clone() })),
            None => {
                enabled = true;
                Some(Some(Dnssec { algorithm, denial, phase: Phase::Signed, keys: vec![key.clone()] }))
            }
        })?;
        Ok((zone, enabled))
    }

    /// Starts going insecure (CDS/CDNSKEY delete published, still signed), or with `force`
    /// stops signing at once.
    pub fn disable_dnssec(&self, actor: &Actor, zone_id: &str, force: bool) -> Result<Zone> {
        actor.require(Scope::Update)?;
        self.change_dnssec(actor, zone_id, |dnssec| match dnssec {
            None => None,
            Some(_) if force => Some(None),
            Some(current) if current.phase == Phase::Unsigning => None,
            Some(current) => Some(Some(Dnssec { phase: Phase::Unsigning, ..current.clone() })),
        })
    }

    /// Signs again, with a new serial, every signed zone whose first signature has less than
    /// a third of its validity left (Knot's refresh rule); how many were.
    pub fn resign_due(&self) -> Result<usize> {
        let zones = self.store.read(|r| r.zones())?;
        let due = |zone: &&Zone| {
            let until = self.nameserver.signed_until(&zone.domain);
            zone.dnssec.is_some() && until.is_some_and(|t| t - now() < RESIGN_BEFORE)
        };
        let mut count = 0;
        for zone in zones.iter().filter(due) {
            let mut next = zone.clone();
            let changed = self.store.write(|txn| {
                let Some(current) = txn.zone(&zone.id)? else { return Ok::<_, Error>(false) };
                next = Zone { serial: next_serial(current.serial, today()), updated_at: now(), ..current };
                txn.put_zone(&next)?;
                Ok(true)
            })?;
            if changed {
                self.publish(&next.id)?;
                count += 1;
            }
        }
        Ok(count)
    }

    /// Commits the DNSSEC state `change` makes of the current one (None: no change), with a
    /// new serial, and serves the zone signed that way before returning.
    fn change_dnssec(
        &self,
        actor: &Actor,
        zone_id: &str,
        mut change: impl FnMut(Option<&Dnssec>) -> Option<Option<Dnssec>>,
    ) -> Result<Zone> {
        let zone = self.store.write(|txn| {
            let before = self.visible_zone(txn, actor, zone_id)?;
            let Some(dnssec) = change(before.dnssec.as_ref()) else { return Ok::<_, Error>(before) };
            let mut zone = Zone { dnssec, ..before.clone() };
            zone.serial = next_serial(zone.serial, today());
            zone.updated_at = now();
            // No journal entry: the signatures changed everywhere, so secondaries asking for
            // IXFR across this serial find the chain broken and take the zone whole (AXFR).
            txn.put_zone(&zone)?;
            txn.append_audit(audit(actor, "zone.dnssec", Some(&zone), summary(&before), summary(&zone)))?;
            Ok(zone)
        })?;
        self.publish(&zone.id)?;
        Ok(zone)
    }
}

/// What the audit keeps of a zone's DNSSEC state: never a private key.
fn summary(zone: &Zone) -> Option<serde_json::Value> {
    let dnssec = zone.dnssec.as_ref()?;
    let keys: Vec<(u16, Timestamp)> = dnssec.keys.iter().map(|k| (k.tag(), k.created_at)).collect();
    Some(serde_json::json!({
        "algorithm": dnssec.algorithm, "denial": dnssec.denial, "phase": dnssec.phase, "keys": keys,
    }))
}
