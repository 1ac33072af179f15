//! Zones: what is stored about one, its SOA timers, and the serial rule.

use serde::{Deserialize, Serialize};

use super::{Timestamp, ValidationError};

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
        Self { refresh: 10_800, retry: 3_600, expire: 604_800, minimum: 3_600 }
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
    /// Networks that may transfer this zone, beside the server-wide ones.
    #[serde(default)]
    pub allow_transfer: Vec<ipnet::IpNet>,
    /// Secondaries told of this zone's changes, beside the server-wide ones.
    #[serde(default)]
    pub notify: Vec<std::net::SocketAddr>,
    /// The zone's group in the catalog zone (RFC 9432 §4.4.2), for secondaries' settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_group: Option<String>,
    /// DNSSEC keys and settings; None for an unsigned zone. Stored apart from the zone and
    /// never serialized with it, so no audit entry or view of a zone carries a private key.
    #[serde(skip)]
    pub dnssec: Option<super::dnssec::Dnssec>,
}

impl Zone {
    /// A new zone with default timers and settings and no records, made now.
    pub fn new(id: String, owner: String, domain: String, serial: u32) -> Zone {
        let at = super::now();
        Zone {
            id,
            owner,
            domain,
            serial,
            soa: SoaTimers::default(),
            record_count: 0,
            created_at: at,
            updated_at: at,
            allow_transfer: Vec::new(),
            notify: Vec::new(),
            catalog_group: None,
            dnssec: None,
        }
    }
}

/// A change to a zone's settings; a field left out keeps its current value.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"refresh": 3600, "allow_transfer": ["192.0.2.53/32"], "notify": ["192.0.2.53:53"]}))]
#[serde(deny_unknown_fields)]
pub struct ZoneSettings {
    pub refresh: Option<u32>,
    pub retry: Option<u32>,
    pub expire: Option<u32>,
    pub minimum: Option<u32>,
    pub allow_transfer: Option<Vec<String>>,
    pub notify: Option<Vec<String>>,
    /// The zone's group in the catalog zone; empty for none.
    pub catalog_group: Option<String>,
}

impl ZoneSettings {
    /// Applies the change to `zone`, validating every value.
    pub fn apply(&self, zone: &mut Zone) -> Result<(), ValidationError> {
        let timer = |value: Option<u32>, current: u32, field: &str, min: u32, max: u32| match value {
            None => Ok(current),
            Some(v) if (min..=max).contains(&v) => Ok(v),
            Some(v) => {
                Err(ValidationError::new(field, format!("{field} must be between {min} and {max} seconds, got {v}")))
            }
        };
        zone.soa.refresh = timer(self.refresh, zone.soa.refresh, "refresh", 60, 2_419_200)?;
        zone.soa.retry = timer(self.retry, zone.soa.retry, "retry", 60, 2_419_200)?;
        zone.soa.expire = timer(self.expire, zone.soa.expire, "expire", 3_600, 31_536_000)?;
        zone.soa.minimum = timer(self.minimum, zone.soa.minimum, "minimum", 0, 86_400)?;
        if let Some(nets) = &self.allow_transfer {
            zone.allow_transfer = nets
                .iter()
                .map(|n| {
                    parse_network(n).ok_or_else(|| {
                        ValidationError::new("allow_transfer", format!("'{n}' is not an address or network (CIDR)"))
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        if let Some(targets) = &self.notify {
            zone.notify = targets
                .iter()
                .map(|t| {
                    parse_target(t).ok_or_else(|| {
                        ValidationError::new("notify", format!("'{t}' is not an address with an optional port"))
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        if let Some(group) = &self.catalog_group {
            let group = group.trim();
            zone.catalog_group = if group.is_empty() {
                None
            } else {
                validate_catalog_group(group)?;
                Some(group.to_string())
            };
        }
        Ok(())
    }
}

/// A catalog group name: what secondaries match in their configuration (RFC 9432 §4.4.2).
fn validate_catalog_group(group: &str) -> Result<(), ValidationError> {
    let fine = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
    if group.len() > 63 || !group.chars().all(fine) {
        return Err(ValidationError::new(
            "catalog_group",
            format!("'{group}' is not a catalog group: 1 to 63 letters, digits, '-', '_' or '.'"),
        ));
    }
    Ok(())
}

/// `192.0.2.0/24`, `2001:db8::/32`, or one address.
fn parse_network(text: &str) -> Option<ipnet::IpNet> {
    let text = text.trim();
    text.parse().ok().or_else(|| text.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from))
}

/// `192.0.2.1:53`, `[2001:db8::1]:5353`, or an address (port 53).
fn parse_target(text: &str) -> Option<std::net::SocketAddr> {
    let text = text.trim();
    text.parse().ok().or_else(|| text.parse::<std::net::IpAddr>().ok().map(|ip| std::net::SocketAddr::new(ip, 53)))
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
