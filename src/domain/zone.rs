//! Zones: what is stored about one, its SOA timers, and the serial rule.

use serde::{Deserialize, Serialize};

use super::Timestamp;

/// SOA timers, per zone. Defaults are PowerDNS's and common registry guidance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoaTimers {
    pub refresh: u32,
    pub retry: u32,
    pub expire: u32,
    /// Negative-caching TTL (RFC 2308).
    pub minimum: u32,
}

impl Default for SoaTimers {
    fn default() -> Self {
        Self {
            refresh: 10_800,
            retry: 3_600,
            expire: 604_800,
            minimum: 3_600,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    pub id: String,
    /// The owning user's id.
    pub owner: String,
    /// A-labels, lowercase, no trailing dot.
    pub domain: String,
    pub serial: u32,
    pub soa: SoaTimers,
    pub record_count: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The next serial after `current` on the day `today` (as YYYYMMDD): date-based `YYYYMMDDnn`
/// while possible, always increasing, so secondaries always see a change.
pub fn next_serial(current: u32, today: u32) -> u32 {
    let dated = today.saturating_mul(100);
    current.saturating_add(1).max(dated)
}

/// Today's date as the number YYYYMMDD (UTC).
pub fn today() -> u32 {
    let now = time::OffsetDateTime::now_utc();
    (now.year() as u32) * 10_000 + u32::from(u8::from(now.month())) * 100 + u32::from(now.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_is_date_based_and_never_goes_back() {
        assert_eq!(next_serial(0, 20261123), 2026112300);
        assert_eq!(next_serial(2026112300, 20261123), 2026112301);
        assert_eq!(next_serial(2026112399, 20261123), 2026112400);
        assert_eq!(next_serial(2026112400, 20261123), 2026112401);
        assert_eq!(next_serial(2026112305, 20261124), 2026112400);
    }
}
