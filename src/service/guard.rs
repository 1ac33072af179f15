//! What a stranger can make the server do with credentials. Failed attempts are counted per
//! client address and per credential (a token id, a username) and checked before any argon2
//! work; an attempt is counted as failed when it begins and forgiven when it succeeds, so
//! parallel guesses cannot all slip past the check. argon2 (19 MiB and ~30 ms a run) runs on
//! a few threads at once; a crowd beyond a short queue is turned away at once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::{Error, RateStatus, Result};
use crate::domain::now;

/// Failures within this window count together.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failed attempts a client address may make in the window.
const PER_CLIENT: u32 = 20;
/// Failed attempts on one credential (from anywhere) in the window.
const PER_CREDENTIAL: u32 = 10;
/// argon2 runs waiting for a thread beyond which callers are turned away.
const MAX_WAITING: usize = 32;
/// Entries kept before expired ones are swept.
const SWEEP_AT: usize = 10_000;

pub struct AuthGuard {
    failures: Mutex<HashMap<Key, (Instant, u32)>>,
    hashing: Mutex<Hashing>,
    freed: Condvar,
    threads: usize,
}

#[derive(Default)]
struct Hashing {
    running: usize,
    waiting: usize,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Client(IpAddr),
    Credential(String),
}

/// An attempt under way, already counted as failed for its client and credential.
pub struct Attempt<'a> {
    guard: &'a AuthGuard,
    credential: Key,
    client: Key,
}

impl Attempt<'_> {
    /// The credential was right: the attempt is forgiven and the credential's count cleared.
    pub fn succeeded(self) {
        let mut failures = self.guard.failures();
        failures.remove(&self.credential);
        if let Some(entry) = failures.get_mut(&self.client) {
            entry.1 = entry.1.saturating_sub(1);
        }
    }
}

impl Default for AuthGuard {
    fn default() -> Self {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 4);
        Self { failures: Mutex::default(), hashing: Mutex::default(), freed: Condvar::new(), threads }
    }
}

impl AuthGuard {
    fn failures(&self) -> std::sync::MutexGuard<'_, HashMap<Key, (Instant, u32)>> {
        self.failures.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Begins an attempt on `credential` from `client`, or refuses it when either has failed
    /// too often of late.
    pub fn begin(&self, client: IpAddr, credential: &str) -> Result<Attempt<'_>> {
        let (client, credential) = (Key::Client(client), Key::Credential(credential.to_string()));
        let mut failures = self.failures();
        if failures.len() >= SWEEP_AT {
            failures.retain(|_, (since, _)| since.elapsed() < WINDOW);
        }
        refuse_over(&failures, &client, PER_CLIENT)?;
        refuse_over(&failures, &credential, PER_CREDENTIAL)?;
        count_failure(&mut failures, &client);
        count_failure(&mut failures, &credential);
        Ok(Attempt { guard: self, credential, client })
    }

    /// Counts a failure of `client` that ran no argon2 (an unknown token).
    pub fn client_failed(&self, client: IpAddr) {
        count_failure(&mut self.failures(), &Key::Client(client));
    }

    /// Whether `client` may try at all (checked before an unknown token is looked up).
    pub fn check_client(&self, client: IpAddr) -> Result<()> {
        refuse_over(&self.failures(), &Key::Client(client), PER_CLIENT)
    }

    /// Runs argon2 work on one of a few threads at a time.
    pub fn hash<T>(&self, work: impl FnOnce() -> T) -> Result<T> {
        let mut state = self.hashing.lock().unwrap_or_else(PoisonError::into_inner);
        if state.running >= self.threads {
            if state.waiting >= MAX_WAITING {
                return Err(Error::RateLimited(RateStatus {
                    limit: MAX_WAITING as u32,
                    remaining: 0,
                    reset: now() + 1,
                }));
            }
            state.waiting += 1;
            while state.running >= self.threads {
                state = self.freed.wait(state).unwrap_or_else(PoisonError::into_inner);
            }
            state.waiting -= 1;
        }
        state.running += 1;
        drop(state);
        let _release = Release(self);
        Ok(work())
    }
}

/// A refusal when `key` has failed `limit` times within the window.
fn refuse_over(failures: &HashMap<Key, (Instant, u32)>, key: &Key, limit: u32) -> Result<()> {
    match failures.get(key) {
        Some((since, count)) if since.elapsed() < WINDOW && *count >= limit => {
            let reset = now() + WINDOW.saturating_sub(since.elapsed()).as_secs() as i64;
            Err(Error::RateLimited(RateStatus { limit, remaining: 0, reset }))
        }
        _ => Ok(()),
    }
}

/// One more failure of `key`, in a window that starts over once it has passed.
fn count_failure(failures: &mut HashMap<Key, (Instant, u32)>, key: &Key) {
    let entry = failures.entry(key.clone()).or_insert((Instant::now(), 0));
    if entry.0.elapsed() >= WINDOW {
        *entry = (Instant::now(), 0);
    }
    entry.1 += 1;
}

/// Frees the argon2 thread even if the work panics.
struct Release<'a>(&'a AuthGuard);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.0.hashing.lock().unwrap_or_else(PoisonError::into_inner).running -= 1;
        self.0.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attempt_counts_as_failed_until_it_succeeds() {
        let guard = AuthGuard::default();
        let ip = IpAddr::from([192, 0, 2, 1]);
        let held: Vec<_> = (0..PER_CREDENTIAL).map(|_| guard.begin(ip, "tok_a").unwrap()).collect();
        assert!(guard.begin(ip, "tok_a").is_err(), "parallel attempts are counted when they begin");
        assert!(guard.begin(ip, "tok_b").is_ok(), "another credential from the same client");
        drop(held);
        assert!(guard.begin(ip, "tok_a").is_err());
        let other = IpAddr::from([192, 0, 2, 2]);
        for n in 0..PER_CLIENT {
            guard.begin(other, &format!("user{n}")).unwrap();
        }
        assert!(guard.begin(other, "fresh").is_err(), "a client that fails too often is refused");
        assert!(guard.check_client(other).is_err());
    }

    #[test]
    fn a_success_forgives_its_attempt() {
        let guard = AuthGuard::default();
        let ip = IpAddr::from([192, 0, 2, 3]);
        for _ in 0..PER_CREDENTIAL * 3 {
            guard.begin(ip, "alice").unwrap().succeeded();
        }
    }
}
