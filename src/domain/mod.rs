//! Pure types and rules: no I/O, nothing internal imported. Every face of nsbox (API dialects,
//! console, CLI, importer, nameserver) validates through here.

pub mod auth;
pub mod dnssec;
pub mod name;
pub mod rdata;
pub mod record;
pub mod tsig;
pub mod zone;
pub mod zonefile;

use serde::Serialize;

/// A rule a piece of user input broke: which field, a stable code, and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    pub field: Option<String>,
    pub code: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self { field: Some(field.to_string()), code: "validation_error", message: message.into() }
    }

    pub fn general(message: impl Into<String>) -> Self {
        Self { field: None, code: "validation_error", message: message.into() }
    }

    /// The request was well-formed JSON but not the shape a record has (PocketDNS answers 422).
    pub fn format(field: Option<String>, message: impl Into<String>) -> Self {
        Self { field, code: "unprocessable_entity", message: message.into() }
    }
}

/// Seconds since the Unix epoch; all stored times are these.
pub type Timestamp = i64;

pub fn now() -> Timestamp {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Now, with the nanoseconds into the second: what orders the changes made within one second.
pub fn now_precise() -> (Timestamp, u32) {
    let t = time::OffsetDateTime::now_utc();
    (t.unix_timestamp(), t.nanosecond())
}

/// ISO 8601 UTC with a `Z`, as both vendor documents print times (`2025-01-06T12:30:00Z`).
/// The digits are written straight into place: a list of 10,000 records formats 20,000 of
/// these, and through `format!` that was a fifth of the list's time.
pub fn iso8601(ts: Timestamp) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ts).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let Ok(year) = u32::try_from(t.year()) else { return "0000-01-01T00:00:00Z".into() };
    let mut out = *b"0000-00-00T00:00:00Z";
    let fields: [(usize, usize, u32); 6] = [
        (0, 4, year),
        (5, 2, u8::from(t.month()).into()),
        (8, 2, t.day().into()),
        (11, 2, t.hour().into()),
        (14, 2, t.minute().into()),
        (17, 2, t.second().into()),
    ];
    for (at, width, mut value) in fields {
        for digit in out[at..at + width].iter_mut().rev() {
            *digit = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }
    out.iter().map(|&b| char::from(b)).collect()
}

/// `prefix` + 16 base32 characters: 48 bits of milliseconds then 32 random bits, so ids sort
/// by creation time (lists come back in creation order) and never collide in practice.
pub fn new_id(prefix: &str) -> String {
    let millis = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    let value = ((millis as u128 & 0xffff_ffff_ffff) << 32) | u128::from(rand::random::<u32>());
    id_from_value(prefix, value)
}

/// The 80-bit value behind an id `new_id(prefix)` made; None for any other string. An index
/// holds an id in 16 bytes this way.
pub fn id_value(prefix: &str, id: &str) -> Option<u128> {
    let digits = id.strip_prefix(prefix).filter(|d| d.len() == 16)?;
    digits.bytes().try_fold(0u128, |value, c| Some(value << 5 | BASE32.iter().position(|&b| b == c)? as u128))
}

/// The id `id_value` read.
pub fn id_from_value(prefix: &str, value: u128) -> String {
    format!("{prefix}{}", base32(value, 16))
}

const BASE32: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

fn base32(mut value: u128, width: usize) -> String {
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = BASE32[(value & 31) as usize];
        value >>= 5;
    }
    String::from_utf8(out).unwrap_or_default()
}

/// `len` random characters from the base32 alphabet (tokens' ids and secrets, passwords).
pub fn random_string(len: usize) -> String {
    (0..len).map(|_| BASE32[rand::random_range(0..32)] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_iso_utc() {
        assert_eq!(iso8601(1_736_166_600), "2025-01-06T12:30:00Z");
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(951_782_399), "2000-02-28T23:59:59Z");
        assert_eq!(iso8601(951_868_800), "2000-03-01T00:00:00Z", "2000 is a leap year");
        assert_eq!(iso8601(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(iso8601(-86_400), "1969-12-31T00:00:00Z");
    }

    #[test]
    fn ids_sort_by_creation() {
        let a = new_id("rec_");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_id("rec_");
        assert!(a < b, "{a} < {b}");
        assert_eq!(a.len(), 20);
    }

    #[test]
    fn ids_read_back_to_their_value() {
        let id = new_id("rec_");
        let value = id_value("rec_", &id);
        assert_eq!(value.map(|v| id_from_value("rec_", v)), Some(id.clone()));
        assert_eq!(id_value("dom_", &id), None, "another prefix");
        assert_eq!(id_value("rec_", &id[..19]), None, "too short");
        assert_eq!(id_value("rec_", &format!("{id}0")), None, "too long");
        assert!(id_value("rec_", "rec_06h0fanhve1pz8d3").is_some());
        assert_eq!(id_value("rec_", "rec_06H0FANHVE1PZ8D3"), None, "not our alphabet");
        assert_eq!(id_value("rec_", "rec_000000000000000u"), None, "u is not a base32 digit");
        assert_eq!(id_value("rec_", "rec_zzzzzzzzzzzzzzzz"), Some((1 << 80) - 1));
    }
}
