//! Answers kept by the bytes of the question that produced them, as PowerDNS's packet cache
//! does: a query that repeats one already answered (same flags, name in the same case, type,
//! EDNS size and DO bit; only the id differs) gets a copy of that answer with its own id,
//! without being parsed, looked up or encoded again.
//!
//! Only plain queries are kept: QUERY with one question and at most an OPT record without
//! options, never a transfer, so the answer depends on nothing but those bytes and the zones
//! served. Every change to the zones moves the generation on, and an entry of an older
//! generation is never served: a change is on the wire as soon as it is published.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Entries kept by default (about 160 bytes each); past the limit the cache starts over. The
/// bench zone's 32,000 distinct questions fit.
pub const DEFAULT_ENTRIES: usize = 50_000;
/// Bytes of questions and answers kept at most, whatever their number: large answers asked
/// in many spellings must not grow the cache past this.
const MAX_BYTES: usize = 16 << 20;
const HEADER_LEN: usize = 12;
const OPT_LEN: usize = 11;

struct Entry {
    generation: u64,
    answer: Box<[u8]>,
}

#[derive(Default)]
struct Kept {
    entries: HashMap<Box<[u8]>, Entry>,
    /// Bytes of the keys and answers in `entries`.
    bytes: usize,
}

pub struct PacketCache {
    kept: Mutex<Kept>,
    generation: AtomicU64,
    /// Entries kept at most; 0 keeps none.
    capacity: usize,
}

impl PacketCache {
    pub fn new(capacity: usize) -> Self {
        Self { kept: Mutex::default(), generation: AtomicU64::new(0), capacity }
    }

    /// The zones changed: no answer kept so far is served again.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The kept answer to `query`, with the query's id, if there is a current one; else
    /// what `keep` needs to keep the answer about to be made, if it may be kept.
    pub fn lookup(&self, query: &[u8]) -> Lookup {
        let Some((key, qtype)) = key(query).filter(|_| self.capacity > 0) else { return Lookup::NotKept };
        let generation = self.generation();
        let kept = self.lock();
        match kept.entries.get(key).filter(|e| e.generation == generation) {
            Some(entry) => {
                let mut answer = entry.answer.to_vec();
                answer[..2].copy_from_slice(&query[..2]);
                Lookup::Hit { answer, qtype }
            }
            None => Lookup::Miss(Miss { key: key.into(), generation }),
        }
    }

    /// Keeps `answer` to the question that missed.
    pub fn keep(&self, miss: &Miss, answer: &[u8]) {
        if answer.len() < HEADER_LEN {
            return;
        }
        let key = &miss.key;
        let size = key.len() + answer.len();
        let mut kept = self.lock();
        if kept.entries.len() >= self.capacity || kept.bytes + size > MAX_BYTES {
            *kept = Kept::default();
        }
        let old = kept.entries.insert(key.clone(), Entry { generation: miss.generation, answer: answer.into() });
        kept.bytes += size;
        kept.bytes -= old.map_or(0, |old| key.len() + old.answer.len());
    }
}

/// What the cache has for a query.
pub enum Lookup {
    /// The answer, and the type asked (for the metrics).
    Hit {
        answer: Vec<u8>,
        qtype: u16,
    },
    Miss(Miss),
    /// Not a query whose answer may be kept.
    NotKept,
}

/// A question the cache may keep the answer to once it is made.
#[derive(Clone)]
pub struct Miss {
    /// The query without its id.
    key: Box<[u8]>,
    /// Read before the zones are: an answer made from zones that change meanwhile is kept as
    /// already stale.
    generation: u64,
}

/// The query without its id, and the type asked, when it is a query whose answer may be kept.
fn key(query: &[u8]) -> Option<(&[u8], u16)> {
    let header = query.get(..HEADER_LEN)?;
    let count = |at: usize| u16::from_be_bytes([header[at], header[at + 1]]);
    let opcode = (header[2] >> 3) & 0x0f;
    let plain = header[2] & 0x80 == 0 && opcode == 0 && count(4) == 1 && count(6) == 0 && count(8) == 0;
    if !plain || count(10) > 1 {
        return None;
    }
    let question_end = question_end(query)?;
    let qtype = u16::from_be_bytes([query[question_end - 4], query[question_end - 3]]);
    if matches!(qtype, 251 | 252) {
        return None; // Transfers: who may have them depends on the client.
    }
    let rest = &query[question_end..];
    let fits = match count(10) {
        0 => rest.is_empty(),
        // An OPT record at the root with no options: type 41, RDLENGTH 0.
        _ => rest.len() == OPT_LEN && rest[0] == 0 && rest[1..3] == [0, 41] && rest[9..11] == [0, 0],
    };
    fits.then(|| (&query[2..], qtype))
}

/// Where the one question ends: its name (uncompressed labels), type and class.
fn question_end(query: &[u8]) -> Option<usize> {
    let mut at = HEADER_LEN;
    loop {
        let len = usize::from(*query.get(at)?);
        if len == 0 {
            break;
        }
        if len > 63 || at - HEADER_LEN > 255 {
            return None; // Compression or a malformed name: never in a plain question.
        }
        at += 1 + len;
    }
    let end = at + 1 + 4;
    (end <= query.len()).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query for www.example.com A, with an OPT record when `edns`.
    fn query(id: u16, edns: bool) -> Vec<u8> {
        let mut q = id.to_be_bytes().to_vec();
        q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, u8::from(edns)]);
        for label in ["www", "example", "com"] {
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.extend_from_slice(&[0, 0, 1, 0, 1]);
        if edns {
            q.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0]);
        }
        q
    }

    fn miss(cache: &PacketCache, query: &[u8]) -> Miss {
        match cache.lookup(query) {
            Lookup::Miss(miss) => miss,
            _ => panic!("not a miss"),
        }
    }

    #[test]
    fn answers_come_back_with_the_new_id_until_the_zones_change() {
        let cache = PacketCache::new(DEFAULT_ENTRIES);
        let answer = [&[0u8, 7][..], &[0x85, 0, 0, 1, 0, 1, 0, 0, 0, 0], b"rest"].concat();
        let missed = miss(&cache, &query(7, true));
        cache.keep(&missed, &answer);
        let Lookup::Hit { answer: again, qtype: 1 } = cache.lookup(&query(9, true)) else { panic!("kept") };
        assert_eq!(again[..2], [0, 9]);
        assert_eq!(again[2..], answer[2..]);
        assert!(matches!(cache.lookup(&query(9, false)), Lookup::Miss(_)), "without EDNS it is another question");
        cache.invalidate();
        assert!(matches!(cache.lookup(&query(9, true)), Lookup::Miss(_)), "a change makes every answer stale");
        cache.keep(&missed, &answer);
        assert!(
            matches!(cache.lookup(&query(9, true)), Lookup::Miss(_)),
            "an answer from before the change is stale at once"
        );
    }

    #[test]
    fn the_cache_stays_within_its_bytes() {
        let cache = PacketCache::new(DEFAULT_ENTRIES);
        let answer = vec![0u8; 4000];
        for i in 0..10_000u32 {
            let mut q = query(1, true);
            // Another spelling of the name each time, as a flood of case variants would be.
            q[13..16].copy_from_slice(&i.to_be_bytes()[1..]);
            cache.keep(&miss(&cache, &q), &answer);
            assert!(cache.lock().bytes <= MAX_BYTES);
        }
        assert!(cache.lock().entries.len() > 1000, "the answers were kept until the bytes ran out");
        let counted: usize = cache.lock().entries.iter().map(|(k, e)| k.len() + e.answer.len()).sum();
        assert_eq!(counted, cache.lock().bytes);
    }

    #[test]
    fn only_plain_queries_are_kept() {
        assert!(key(&query(1, true)).is_some() && key(&query(1, false)).is_some());
        let mut with_option = query(1, true);
        let len = with_option.len();
        with_option[len - 2..].copy_from_slice(&[0, 4]);
        with_option.extend_from_slice(&[0, 10, 0, 0]);
        assert!(key(&with_option).is_none(), "EDNS options (cookies, ECS) are not kept");
        let mut axfr = query(1, false);
        let len = axfr.len();
        axfr[len - 3] = 252;
        assert!(key(&axfr).is_none());
        let mut notify = query(1, false);
        notify[2] = 0x20;
        assert!(key(&notify).is_none());
        let mut trailing = query(1, false);
        trailing.push(0);
        assert!(key(&trailing).is_none());
        for cut in 0..query(1, true).len() {
            assert!(key(&query(1, true)[..cut]).is_none());
        }
    }
}
