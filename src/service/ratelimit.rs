//! Per-token request budgets in fixed one-minute windows, by the numbers of the PocketDNS
//! document (reads 1000/min, creates, updates, deletes 300/min, bulk 60/min).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::domain::now;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    Read,
    Create,
    Update,
    Delete,
    Bulk,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub read: u32,
    pub create: u32,
    pub update: u32,
    pub delete: u32,
    pub bulk: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self { read: 1000, create: 300, update: 300, delete: 300, bulk: 60 }
    }
}

impl Limits {
    fn of(&self, bucket: Bucket) -> u32 {
        match bucket {
            Bucket::Read => self.read,
            Bucket::Create => self.create,
            Bucket::Update => self.update,
            Bucket::Delete => self.delete,
            Bucket::Bulk => self.bulk,
        }
    }
}

/// What the X-RateLimit-* headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateStatus {
    pub limit: u32,
    pub remaining: u32,
    /// Unix time at which the window resets.
    pub reset: i64,
}

impl RateStatus {
    pub fn retry_after(&self) -> i64 {
        (self.reset - now()).max(1)
    }
}

const WINDOW: i64 = 60;

pub struct RateLimiter {
    limits: Limits,
    windows: Mutex<HashMap<(String, Bucket), (i64, u32)>>,
}

impl RateLimiter {
    pub fn new(limits: Limits) -> Self {
        Self { limits, windows: Mutex::new(HashMap::new()) }
    }

    /// Counts one request by `key` (a token id); Err when its budget for the window is spent.
    pub fn check(&self, key: &str, bucket: Bucket) -> Result<RateStatus, RateStatus> {
        let limit = self.limits.of(bucket);
        let now = now();
        let mut windows = self.windows.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now - *start < WINDOW);
        }
        let (start, count) = windows.entry((key.to_string(), bucket)).or_insert((now, 0));
        if now - *start >= WINDOW {
            (*start, *count) = (now, 0);
        }
        let reset = *start + WINDOW;
        if *count >= limit {
            return Err(RateStatus { limit, remaining: 0, reset });
        }
        *count += 1;
        Ok(RateStatus { limit, remaining: limit - *count, reset })
    }
}
