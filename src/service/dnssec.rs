//! Turning DNSSEC on and off for a zone, and its keys' lives. The nameserver signs every
//! version it serves; here keys are made, stepped through their rollovers and kept, and the
//! way out is made safe: CDS/CDNSKEY "delete" first (RFC 8078), unsigned only when the
//! operator says the parent's DS is gone. Every step is in the zone's history.

use super::{Actor, Error, Result, Service, audit};
use crate::domain::Timestamp;
use crate::domain::ValidationError;
use crate::domain::auth::Scope;
use crate::domain::dnssec::{Algorithm, Denial, Dnssec, KeyState, Phase, Role, word};
use crate::domain::now;
use crate::domain::zone::{Zone, next_serial, today};
use crate::store::Read;

/// Signatures are made valid for about two weeks; re-signing starts with a third of that left.
pub const RESIGN_BEFORE: i64 = 14 * 86_400 / 3;

/// What a change does to a zone's DNSSEC state: the new state (None: unsigned) and a
/// sentence for the history, or None for no change.
type Change = Option<(Option<Dnssec>, String)>;

impl Service {
    /// The zone, with its DNSSEC state, for one who may read it.
    pub fn dnssec(&self, actor: &Actor, zone_id: &str) -> Result<Zone> {
        actor.require(Scope::Read)?;
        self.store.read(|r| self.visible_zone(r, actor, zone_id))
    }

    /// Signs the zone with new keys (one CSK, or a KSK and a ZSK when `split`); true when it
    /// was not signed before. A signed zone keeps its keys (see `rollover_dnssec`).
    pub fn enable_dnssec(
        &self,
        actor: &Actor,
        zone_id: &str,
        algorithm: Algorithm,
        denial: Denial,
        split: bool,
    ) -> Result<(Zone, bool)> {
        actor.require(Scope::Update)?;
        let fresh = Dnssec::new(algorithm, denial, split, now()).map_err(key_failure)?;
        let mut enabled = false;
        let zone = self.change_dnssec(actor, zone_id, |dnssec| {
            Ok(match dnssec {
                Some(current) if current.phase == Phase::Signed => None,
                Some(current) => {
                    Some((Some(Dnssec { phase: Phase::Signed, ..current.clone() }), "signing resumed".into()))
                }
                None => {
                    enabled = true;
                    Some((Some(fresh.clone()), format!("signed with {} and {}", word(&algorithm), word(&denial))))
                }
            })
        })?;
        Ok((zone, enabled))
    }

    /// Starts going insecure (CDS/CDNSKEY delete published, still signed), or with `force`
    /// stops signing at once.
    pub fn disable_dnssec(&self, actor: &Actor, zone_id: &str, force: bool) -> Result<Zone> {
        actor.require(Scope::Update)?;
        self.change_dnssec(actor, zone_id, |dnssec| {
            Ok(match dnssec {
                None => None,
                Some(_) if force => Some((None, "unsigned".into())),
                Some(current) if current.phase == Phase::Unsigning => None,
                Some(current) => Some((
                    Some(Dnssec { phase: Phase::Unsigning, ..current.clone() }),
                    "going insecure: CDS/CDNSKEY delete published".into(),
                )),
            })
        })
    }

    /// Starts a KSK/CSK rollover, to another algorithm if given.
    pub fn rollover_dnssec(&self, actor: &Actor, zone_id: &str, algorithm: Option<Algorithm>) -> Result<Zone> {
        actor.require(Scope::Update)?;
        self.change_dnssec(actor, zone_id, |dnssec| {
            let mut next = signed(dnssec)?;
            let step = next.start_rollover(algorithm, now()).map_err(|e| ValidationError::new("dnssec", e))?;
            Ok(Some((Some(next), step)))
        })
    }

    /// The operator says the parent now has the DS of the rollover's new key.
    pub fn confirm_ds(&self, actor: &Actor, zone_id: &str) -> Result<Zone> {
        actor.require(Scope::Update)?;
        self.change_dnssec(actor, zone_id, |dnssec| {
            let mut next = signed(dnssec)?;
            let step = next.confirm_ds(now()).map_err(|e| ValidationError::new("dnssec", e))?;
            Ok(Some((Some(next), step)))
        })
    }

    /// Takes every signed zone's due rollover steps, and signs again, with a new serial, each
    /// zone whose first signature has less than a third of its validity left (Knot's rule).
    /// Returns how many zones changed.
    pub fn dnssec_maintenance(&self) -> Result<usize> {
        let policy = &self.dnssec_policy;
        let zones = self.store.read(|r| r.zones())?;
        let mut count = 0;
        for zone in zones.iter().filter(|z| z.dnssec.is_some()) {
            // The server itself, acting on the owner's zone.
            let server = Actor { user_id: zone.owner.clone(), ..Actor::system("nsbox") };
            let until = self.nameserver.signed_until(&zone.domain);
            let resign = until.is_some_and(|t| t - now() < RESIGN_BEFORE);
            let step_due = zone.dnssec.as_ref().and_then(|d| d.next_step(policy)).is_some_and(|(at, _)| at <= now());
            // Nothing due: no transaction (each is a durable commit).
            if !resign && !step_due {
                continue;
            }
            let changed = self.change_dnssec(&server, &zone.id, |dnssec| {
                let Some(mut next) = dnssec.cloned() else { return Ok(None) };
                let steps = next.advance(policy, now()).map_err(key_failure)?;
                Ok(match (steps.is_empty(), resign) {
                    (false, _) => Some((Some(next), steps.join("; "))),
                    (true, true) => Some((Some(next), "signatures renewed".into())),
                    (true, false) => None,
                })
            })?;
            count += usize::from(changed.serial != zone.serial);
        }
        Ok(count)
    }

    /// Gives every signed zone a new serial before the server starts serving: starting, the
    /// nameserver signs each zone afresh (signatures are not kept in the data file), and a
    /// zone signed again must not keep its serial, or secondaries would hold other signatures
    /// under the same one. Returns how many zones.
    pub fn new_serials_for_signed_zones(&self) -> Result<usize> {
        let server = Actor::system("nsbox");
        if !self.store.read(|r| r.zones())?.iter().any(|z| z.dnssec.is_some()) {
            return Ok(0); // No commit on every start for a server that signs nothing.
        }
        let count = self.store.write(|txn| {
            let signed: Vec<Zone> = txn.zones()?.into_iter().filter(|z| z.dnssec.is_some()).collect();
            for before in &signed {
                let zone = Zone { serial: next_serial(before.serial, today()), updated_at: now(), ..before.clone() };
                txn.put_zone(&zone)?;
                txn.append_audit(step_entry(&server, before, &zone, "signed again at start"))?;
            }
            Ok::<_, Error>(signed.len())
        })?;
        Ok(count)
    }

    /// Commits the DNSSEC state `change` makes of the current one, with a new serial and an
    /// audit entry, and serves the zone signed that way before returning.
    fn change_dnssec(
        &self,
        actor: &Actor,
        zone_id: &str,
        mut change: impl FnMut(Option<&Dnssec>) -> Result<Change>,
    ) -> Result<Zone> {
        let zone = self.store.write(|txn| {
            let before = self.visible_zone(txn, actor, zone_id)?;
            let Some((dnssec, step)) = change(before.dnssec.as_ref())? else { return Ok::<_, Error>(before) };
            let mut zone = Zone { dnssec, ..before.clone() };
            zone.serial = next_serial(zone.serial, today());
            zone.updated_at = now();
            // No journal entry: the signatures changed everywhere, so secondaries asking for
            // IXFR across this serial find the chain broken and take the zone whole (AXFR).
            txn.put_zone(&zone)?;
            txn.append_audit(step_entry(actor, &before, &zone, &step))?;
            Ok(zone)
        })?;
        self.publish(&zone.id)?;
        Ok(zone)
    }
}

/// The zone's DNSSEC state, which a rollover needs.
fn signed(dnssec: Option<&Dnssec>) -> Result<Dnssec> {
    dnssec.cloned().ok_or_else(|| ValidationError::new("dnssec", "the zone is not signed").into())
}

fn key_failure(error: String) -> Error {
    Error::Storage(crate::store::StoreError::Corrupt(error))
}

/// The history entry of one DNSSEC step: the state before and after, and what the step did.
fn step_entry(actor: &Actor, before: &Zone, after: &Zone, step: &str) -> crate::store::AuditEntry {
    let mut state = summary(after).unwrap_or_else(|| serde_json::json!({"enabled": false}));
    if let Some(fields) = state.as_object_mut() {
        fields.insert("step".into(), step.into());
    }
    audit(actor, "zone.dnssec", Some(after), summary(before), Some(state))
}

/// What the audit keeps of a zone's DNSSEC state: never a private key.
fn summary(zone: &Zone) -> Option<serde_json::Value> {
    let dnssec = zone.dnssec.as_ref()?;
    let keys: Vec<(u16, Role, KeyState, Timestamp)> =
        dnssec.keys.iter().map(|k| (k.tag(), k.role, k.state, k.since)).collect();
    Some(serde_json::json!({
        "algorithm": dnssec.algorithm, "denial": dnssec.denial, "phase": dnssec.phase, "keys": keys,
    }))
}
