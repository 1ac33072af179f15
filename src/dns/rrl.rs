//! Response rate limiting over UDP, as Knot's `rrl` module and BIND's `rate-limit` do it: a
//! spoofed flood must not turn the server into an amplifier. Answers are counted per client
//! network (IPv4 /24, IPv6 /56) and per kind of answer (data, no data, NXDOMAIN, referral,
//! error) in token buckets refilled at `rate` a second; past that, answers are dropped, but
//! every `slip`-th one goes out truncated, so a real client behind the network retries over
//! TCP (which is never limited). Exempt networks (loopback by default) are never limited.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use ipnet::IpNet;

/// The settings: `rate` answers a second per network and kind (0: off), `slip`.
#[derive(Debug, Clone)]
pub struct RrlSettings {
    pub rate: u32,
    pub slip: u32,
    pub exempt: Vec<IpNet>,
}

impl Default for RrlSettings {
    fn default() -> Self {
        let loopback = ["127.0.0.0/8", "::1/128"].iter().filter_map(|n| n.parse().ok()).collect();
        Self { rate: 20, slip: 2, exempt: loopback }
    }
}

/// What to do with an answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Send,
    Drop,
    /// Send it truncated (TC, no records): the client may retry over TCP.
    Slip,
}

struct Bucket {
    tokens: f64,
    at: Instant,
    dropped: u32,
}

/// Entries kept before those idle for a while are swept.
const SWEEP_AT: usize = 50_000;

pub struct Rrl {
    settings: RrlSettings,
    buckets: Mutex<Buckets>,
    pub dropped: AtomicU64,
    pub slipped: AtomicU64,
}

impl Rrl {
    pub fn new(settings: RrlSettings) -> Self {
        Self { settings, buckets: Mutex::default(), dropped: AtomicU64::new(0), slipped: AtomicU64::new(0) }
    }

    /// The verdict on one `answer` (wire form) to `client`.
    #[cfg(test)]
    fn check(&self, client: IpAddr, answer: &[u8]) -> Verdict {
        let mut verdicts = self.check_batch([(client, answer)]);
        verdicts.pop().unwrap_or(Verdict::Send)
    }

    /// The verdicts on a batch of answers, in order: one lock and one clock reading for the
    /// whole batch, since the UDP loop sends answers a batch at a time.
    pub fn check_batch<'a>(&self, answers: impl IntoIterator<Item = (IpAddr, &'a [u8])>) -> Vec<Verdict> {
        let answers = answers.into_iter();
        if self.settings.rate == 0 {
            return answers.map(|_| Verdict::Send).collect();
        }
        let rate = f64::from(self.settings.rate);
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= SWEEP_AT {
            buckets.retain(|_, b| now.duration_since(b.at).as_secs() < 10);
        }
        answers
            .map(|(client, answer)| {
                if self.settings.exempt.iter().any(|net| net.contains(&client)) {
                    return Verdict::Send;
                }
                let bucket = buckets.entry((network(client), kind(answer))).or_insert(Bucket {
                    tokens: rate,
                    at: now,
                    dropped: 0,
                });
                bucket.tokens = (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * rate).min(rate);
                bucket.at = now;
                if bucket.tokens >= 1.0 {
                    bucket.tokens -= 1.0;
                    return Verdict::Send;
                }
                bucket.dropped = bucket.dropped.wrapping_add(1);
                if self.settings.slip > 0 && bucket.dropped.is_multiple_of(self.settings.slip) {
                    self.slipped.fetch_add(1, Ordering::Relaxed);
                    Verdict::Slip
                } else {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                    Verdict::Drop
                }
            })
            .collect()
    }
}

/// A cheap hash for the buckets' keys (a network and a kind: no attacker picks both freely,
/// and the table is swept): SipHash per answer showed in the profile.
#[derive(Default)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u128(&mut self, n: u128) {
        self.0 = (self.0 ^ (n as u64) ^ ((n >> 64) as u64)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn write_u8(&mut self, n: u8) {
        self.0 = (self.0 ^ u64::from(n)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type Buckets = HashMap<(u128, u8), Bucket, std::hash::BuildHasherDefault<KeyHasher>>;

/// The client's network: IPv4 /24, IPv6 /56 (as Knot and BIND count them).
fn network(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4) & 0xffff_ff00),
        // The low bit, never set in a masked address, keeps the two families apart.
        IpAddr::V6(v6) => (u128::from(v6) & !((1u128 << 72) - 1)) | 1,
    }
}

/// The kind of an answer, from its header: 0 data, 1 no data, 2 NXDOMAIN, 3 referral, 4 error.
fn kind(answer: &[u8]) -> u8 {
    let Some(header) = answer.get(..12) else { return 4 };
    let count = |at: usize| u16::from_be_bytes([header[at], header[at + 1]]);
    match (header[3] & 0x0f, count(6), header[2] & 0x04 != 0, count(8)) {
        (3, ..) => 2,
        (0, answers, ..) if answers > 0 => 0,
        (0, _, false, authority) if authority > 0 => 3,
        (0, ..) => 1,
        _ => 4,
    }
}

/// `answer` cut to its header and question, with TC set: what a slipped answer is.
pub fn truncated(answer: &[u8]) -> Option<Vec<u8>> {
    let mut at = 12;
    loop {
        let len = usize::from(*answer.get(at)?);
        at += 1 + len;
        if len == 0 {
            break;
        }
        if len > 63 {
            return None;
        }
    }
    let end = at + 4;
    let mut out = answer.get(..end)?.to_vec();
    out[2] |= 0x02; // TC
    out[4..6].copy_from_slice(&1u16.to_be_bytes());
    out[6..12].fill(0);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(rcode: u8, answers: u16) -> Vec<u8> {
        let mut a = vec![0, 1, 0x84, rcode, 0, 1, 0, answers as u8, 0, 0, 0, 0];
        a.extend_from_slice(&[3, b'w', b'w', b'w', 0, 0, 1, 0, 1]);
        a
    }

    #[test]
    fn a_flood_is_limited_with_every_second_answer_slipped() {
        let rrl = Rrl::new(RrlSettings { rate: 5, slip: 2, exempt: Vec::new() });
        let client: IpAddr = "192.0.2.7".parse().unwrap();
        let verdicts: Vec<Verdict> = (0..25).map(|_| rrl.check(client, &answer(0, 1))).collect();
        assert_eq!(verdicts.iter().filter(|v| **v == Verdict::Send).count(), 5);
        assert_eq!(verdicts.iter().filter(|v| **v == Verdict::Slip).count(), 10);
        // Another network, and another kind of answer, have buckets of their own.
        assert_eq!(rrl.check("192.0.3.7".parse().unwrap(), &answer(0, 1)), Verdict::Send);
        assert_eq!(rrl.check(client, &answer(3, 0)), Verdict::Send);
        let slipped = truncated(&answer(0, 1)).unwrap();
        assert_eq!((slipped[2] & 0x02, slipped.len()), (0x02, 12 + 9));
    }

    #[test]
    fn exempt_networks_and_rate_zero_are_never_limited() {
        let rrl = Rrl::new(RrlSettings::default());
        assert!((0..100).all(|_| rrl.check("127.0.0.1".parse().unwrap(), &answer(0, 1)) == Verdict::Send));
        let off = Rrl::new(RrlSettings { rate: 0, ..RrlSettings::default() });
        assert!((0..100).all(|_| off.check("192.0.2.1".parse().unwrap(), &answer(0, 1)) == Verdict::Send));
    }
}
