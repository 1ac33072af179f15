//! Key rollovers, as steps on a zone's keys (RFC 7583, RFC 6781 §4.1): pure rules over the
//! key states and the clock; the service commits each step, the nameserver signs with the
//! keys as they then stand.
//!
//! - ZSK (split keys), automatic, by pre-publication: a new ZSK is published, after `wait`
//!   it signs and the old one stops (still published), after another `wait` the old one goes.
//! - KSK or CSK, and any algorithm change, started by the operator, by double signatures: the
//!   new key signs beside the old one at once and CDS/CDNSKEY list both; when the operator
//!   confirms the parent's DS for the new key, the old keys stop being offered to the parent
//!   (retiring, still signing) and go after `wait`. Every set stays signed by every
//!   algorithm in the DNSKEY set throughout (RFC 4035 §2.2), so validation never breaks.

use super::{Algorithm, Denial, Dnssec, KeyState, Phase, Role, SigningKey};
use crate::domain::Timestamp;

/// How keys age: a ZSK's lifetime, and how long each rollover step waits for caches (the
/// largest TTL in the zone plus propagation; nsbox's largest default TTL is a day).
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub zsk_lifetime: i64,
    pub wait: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { zsk_lifetime: 30 * 86_400, wait: 86_400 }
    }
}

impl Dnssec {
    /// A zone's first keys: one CSK, or a KSK and a ZSK.
    pub fn new(algorithm: Algorithm, denial: Denial, split: bool, now: Timestamp) -> Result<Dnssec, String> {
        let roles: &[Role] = if split { &[Role::Ksk, Role::Zsk] } else { &[Role::Csk] };
        let keys = roles
            .iter()
            .map(|role| SigningKey::generate(algorithm, *role, KeyState::Active, now))
            .collect::<Result<_, _>>()?;
        Ok(Dnssec { algorithm, denial, phase: Phase::Signed, keys })
    }

    pub fn split(&self) -> bool {
        self.keys.iter().any(|k| k.role == Role::Zsk)
    }

    /// Whether a KSK/CSK rollover waits for the operator to confirm the parent's DS.
    pub fn awaiting_ds(&self) -> bool {
        self.keys.iter().filter(|k| k.wants_ds()).count() > 1
    }

    /// Starts a KSK (or CSK) rollover, to `algorithm` if given: the new key signs at once.
    pub fn start_rollover(&mut self, algorithm: Option<Algorithm>, now: Timestamp) -> Result<String, String> {
        if self.awaiting_ds() || self.keys.iter().any(|k| k.state == KeyState::Retiring) {
            return Err("a key rollover is under way: confirm the parent's DS, or wait for the old key to go".into());
        }
        let algorithm = algorithm.unwrap_or(self.algorithm);
        let role = if self.split() { Role::Ksk } else { Role::Csk };
        let key = SigningKey::generate(algorithm, role, KeyState::Active, now)?;
        let mut step =
            format!("{role:?} rollover started: key {} ({}) signs beside the old one", key.tag(), algorithm.number());
        self.keys.push(key);
        if self.split() && algorithm != self.algorithm {
            let zsk = SigningKey::generate(algorithm, Role::Zsk, KeyState::Active, now)?;
            step.push_str(&format!(", with ZSK {}", zsk.tag()));
            self.keys.push(zsk);
        }
        self.algorithm = algorithm;
        Ok(format!("{step}; give the parent its DS, then confirm"))
    }

    /// The operator confirms the parent has the new key's DS: the old keys retire.
    pub fn confirm_ds(&mut self, now: Timestamp) -> Result<String, String> {
        // Keys are kept in the order they were made: the last one the parent should have is new.
        let newest = self.keys.iter().rposition(SigningKey::wants_ds);
        let Some(newest) = newest.filter(|_| self.awaiting_ds()) else {
            return Err("no key rollover is waiting for the parent's DS".into());
        };
        let algorithm = self.algorithm;
        let mut retired = Vec::new();
        for (i, key) in self.keys.iter_mut().enumerate() {
            let old_key_signer = key.wants_ds() && i < newest;
            let old_algorithm = key.role == Role::Zsk && key.algorithm != algorithm && key.state == KeyState::Active;
            if old_key_signer || old_algorithm {
                key.state = KeyState::Retiring;
                key.since = now;
                retired.push(key.tag());
            }
        }
        Ok(format!("parent DS confirmed: key {} retiring", join(&retired)))
    }

    /// The steps due at `now`, taken; what each did, for the history.
    pub fn advance(&mut self, policy: &Policy, now: Timestamp) -> Result<Vec<String>, String> {
        let mut steps = Vec::new();
        let gone: Vec<u16> = self
            .keys
            .iter()
            .filter(|k| matches!(k.state, KeyState::Retiring | KeyState::Retired) && k.since + policy.wait <= now)
            .map(SigningKey::tag)
            .collect();
        if !gone.is_empty() {
            self.keys.retain(|k| !gone.contains(&k.tag()));
            steps.push(format!("key {} removed", join(&gone)));
        }
        if !self.split() {
            return Ok(steps);
        }
        let algorithm = self.algorithm;
        let ready = self
            .keys
            .iter()
            .position(|k| k.role == Role::Zsk && k.state == KeyState::Published && k.since + policy.wait <= now);
        if let Some(ready) = ready {
            let new_tag = self.keys[ready].tag();
            for key in &mut self.keys {
                if key.role == Role::Zsk && key.algorithm == algorithm && key.state == KeyState::Active {
                    key.state = KeyState::Retired;
                    key.since = now;
                }
            }
            self.keys[ready].state = KeyState::Active;
            self.keys[ready].since = now;
            steps.push(format!("ZSK {new_tag} signs; the old ZSK stays published until caches forget it"));
        }
        let pending = self.keys.iter().any(|k| k.role == Role::Zsk && k.state == KeyState::Published);
        let due = self.keys.iter().any(|k| {
            k.role == Role::Zsk
                && k.algorithm == algorithm
                && k.state == KeyState::Active
                && k.since + policy.zsk_lifetime <= now
        });
        if due && !pending && !self.keys.iter().any(|k| k.state == KeyState::Retired) {
            let key = SigningKey::generate(algorithm, Role::Zsk, KeyState::Published, now)?;
            steps.push(format!("ZSK rollover: key {} published", key.tag()));
            self.keys.push(key);
        }
        Ok(steps)
    }
}

impl Dnssec {
    /// When the next scheduled key step is due, and what it is: the step `advance` takes
    /// once that time has come. None when nothing is scheduled (one CSK, no rollover).
    pub fn next_step(&self, policy: &Policy) -> Option<(Timestamp, &'static str)> {
        // A ZSK is rolled only when no other ZSK rollover is under way.
        let rolling = self
            .keys
            .iter()
            .any(|k| (k.role == Role::Zsk && k.state == KeyState::Published) || k.state == KeyState::Retired);
        let step = |key: &SigningKey| match (key.role, key.state) {
            (_, KeyState::Retiring | KeyState::Retired) => Some((key.since + policy.wait, "an old key is removed")),
            (Role::Zsk, KeyState::Published) => Some((key.since + policy.wait, "the new ZSK starts signing")),
            (Role::Zsk, KeyState::Active) if key.algorithm == self.algorithm && !rolling => {
                Some((key.since + policy.zsk_lifetime, "ZSK rollover: a new ZSK is published"))
            }
            _ => None,
        };
        self.keys.iter().filter_map(step).min_by_key(|(at, _)| *at)
    }
}

fn join(tags: &[u16]) -> String {
    tags.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn states(d: &Dnssec) -> Vec<(Role, KeyState)> {
        d.keys.iter().map(|k| (k.role, k.state)).collect()
    }

    #[test]
    fn a_zsk_rolls_by_pre_publication() {
        let policy = Policy { zsk_lifetime: 100, wait: 10 };
        let mut d = Dnssec::new(Algorithm::Ed25519, Denial::Nsec, true, 0).expect("keys");
        assert!(d.advance(&policy, 99).expect("step").is_empty());
        assert_eq!(d.advance(&policy, 100).expect("step").len(), 1);
        use KeyState::*;
        assert_eq!(states(&d), [(Role::Ksk, Active), (Role::Zsk, Active), (Role::Zsk, Published)]);
        assert!(d.advance(&policy, 109).expect("step").is_empty(), "caches need the wait to learn the key");
        d.advance(&policy, 110).expect("step");
        assert_eq!(states(&d), [(Role::Ksk, Active), (Role::Zsk, Retired), (Role::Zsk, Active)]);
        d.advance(&policy, 120).expect("step");
        assert_eq!(states(&d), [(Role::Ksk, Active), (Role::Zsk, Active)]);
    }

    #[test]
    fn a_step_is_taken_exactly_when_next_step_says_it_is_due() {
        // The second policy rolls ZSKs faster than a rollover's steps wait.
        for policy in [Policy { zsk_lifetime: 30, wait: 7 }, Policy { zsk_lifetime: 5, wait: 7 }] {
            let mut split = Dnssec::new(Algorithm::Ed25519, Denial::Nsec, true, 0).expect("keys");
            let mut csk = Dnssec::new(Algorithm::Ecdsap256sha256, Denial::Nsec, false, 0).expect("keys");
            csk.start_rollover(Some(Algorithm::Ed25519), 3).expect("started");
            for t in 0..200 {
                if t == 50 {
                    csk.confirm_ds(t).expect("confirmed");
                    split.start_rollover(None, t).expect("started");
                }
                for d in [&mut split, &mut csk] {
                    let due = d.next_step(&policy).is_some_and(|(at, _)| at <= t);
                    assert_eq!(due, !d.advance(&policy, t).expect("step").is_empty(), "{policy:?} at {t}");
                }
            }
        }
    }

    #[test]
    fn an_algorithm_rollover_double_signs_until_the_old_keys_go() {
        let policy = Policy { zsk_lifetime: 1000, wait: 10 };
        let mut d = Dnssec::new(Algorithm::Ecdsap256sha256, Denial::Nsec, true, 0).expect("keys");
        d.start_rollover(Some(Algorithm::Ed25519), 5).expect("started");
        assert!(d.start_rollover(None, 6).is_err(), "one at a time");
        assert!(d.awaiting_ds());
        assert_eq!(d.keys.iter().filter(|k| k.signs_zone()).count(), 2, "both algorithms sign");
        d.confirm_ds(7).expect("confirmed");
        assert!(
            d.keys.iter().filter(|k| k.algorithm == Algorithm::Ecdsap256sha256).all(|k| k.state == KeyState::Retiring)
        );
        assert_eq!(d.keys.iter().filter(|k| k.signs_zone()).count(), 2, "the old algorithm still signs");
        d.advance(&policy, 17).expect("step");
        assert!(d.keys.iter().all(|k| k.algorithm == Algorithm::Ed25519 && k.state == KeyState::Active));
        assert!(d.confirm_ds(18).is_err());
    }
}
