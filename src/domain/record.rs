//! What a valid DNS record is. `validate_record` is the ONE validator: the API dialects, the
//! console, the zone-file importer and dynamic UPDATE all call it. The data of each type is
//! defined once, in `rdata`; this adds what the vendor documents say of records (MX and SRV
//! priority in a field of its own, TXT as plain text) and the rules between records.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::rdata::{self, Names};
use super::{ValidationError, name};

/// TXT data longer than 255 bytes goes on the wire as several strings; this bounds the whole.
pub const MAX_TXT: usize = 4_000;

pub use super::rdata::RecordType;

/// A record as a client sent it, before validation. Fields are optional so that each missing
/// one gets its own message; the dialects fill it from their own field names.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RecordInput {
    #[serde(rename = "type")]
    pub rtype: Option<String>,
    pub name: Option<String>,
    pub content: Option<String>,
    pub ttl: Option<i64>,
    pub priority: Option<i64>,
}

/// A valid record in canonical form. `content` is canonical text: addresses normalised, host
/// names lowercase without the trailing dot, SRV as `weight port target` (its priority is in
/// `priority`), CAA as `flags tag "value"`, TXT as the unquoted text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RecordData {
    #[serde(rename = "type")]
    pub rtype: RecordType,
    pub name: String,
    pub content: String,
    pub ttl: u32,
    pub priority: Option<u16>,
}

impl RecordData {
    /// Same record apart from its TTL: two such records cannot both exist.
    pub fn same_rdata(&self, other: &RecordData) -> bool {
        self.rtype == other.rtype
            && self.name == other.name
            && self.content == other.content
            && self.priority == other.priority
    }

    /// SRV content with its priority in front, as PocketDNS writes it.
    pub fn content_with_priority(&self) -> String {
        match (self.rtype, self.priority) {
            (RecordType::SRV, Some(p)) => format!("{p} {}", self.content),
            _ => self.content.clone(),
        }
    }

    pub fn to_input(&self) -> RecordInput {
        RecordInput {
            rtype: Some(self.rtype.to_string()),
            name: Some(self.name.clone()),
            content: Some(self.content.clone()),
            ttl: Some(i64::from(self.ttl)),
            priority: self.priority.map(i64::from),
        }
    }
}

/// A stored record: its data plus identity and times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub zone_id: String,
    #[serde(flatten)]
    pub data: RecordData,
    pub created_at: super::Timestamp,
    pub updated_at: super::Timestamp,
}

/// The TTLs records may have: the vendor documents' 60–86,400 s unless the operator says
/// otherwise (`--ttl-min`, `--ttl-max`). The API refuses a TTL outside them; zone files,
/// RFC 2136 and transfers bring them inside and say so (`clamp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TtlPolicy {
    pub min: u32,
    pub max: u32,
}

impl Default for TtlPolicy {
    fn default() -> Self {
        Self { min: 60, max: 86_400 }
    }
}

impl TtlPolicy {
    fn check(&self, ttl: Option<i64>, default_ttl: u32) -> Result<u32, ValidationError> {
        match ttl {
            None => Ok(default_ttl.clamp(self.min, self.max)),
            Some(t) if (i64::from(self.min)..=i64::from(self.max)).contains(&t) => Ok(t as u32),
            Some(t) => Err(ValidationError::new(
                "ttl",
                format!("TTL must be between {} and {} seconds, got {t}", self.min, self.max),
            )),
        }
    }

    /// `ttl` brought inside the policy, and what was done, if anything.
    pub fn clamp(&self, ttl: i64) -> (i64, Option<String>) {
        let inside = ttl.clamp(i64::from(self.min), i64::from(self.max));
        let said =
            (inside != ttl).then(|| format!("TTL {ttl} is outside {}–{} s: set to {inside}", self.min, self.max));
        (inside, said)
    }
}

/// Validate one record for `zone` (its domain), giving it `default_ttl` when none was sent.
pub fn validate_record(
    zone: &str,
    input: &RecordInput,
    default_ttl: u32,
    ttls: TtlPolicy,
) -> Result<RecordData, ValidationError> {
    let rtype: RecordType = required(&input.rtype, "type")?.parse()?;
    let name = name::parse_owner(required(&input.name, "name")?, zone)?;
    let content = required(&input.content, "content")?;
    let ttl = ttls.check(input.ttl, default_ttl)?;
    let priority = input.priority.map(validate_priority).transpose()?;
    if rtype == RecordType::CNAME && name == "@" {
        return Err(ValidationError::new("name", "CNAME records cannot be used for the root domain (@)"));
    }
    // The generic form (`\# 4 0a000001`) of a known type is read as that type's data.
    let typed;
    let content = if content.trim_start().starts_with("\\#") && rtype.descriptor().is_some() {
        typed = rdata::print(rtype, &parse_data(rtype, content)?, false).map_err(content_error)?;
        typed.as_str()
    } else {
        content
    };
    let (content, priority) = match rtype {
        RecordType::A => (parse_ip::<Ipv4Addr>(content, "IPv4")?, None),
        RecordType::AAAA => (parse_ip::<Ipv6Addr>(content, "IPv6")?, None),
        RecordType::CNAME | RecordType::NS | RecordType::PTR | RecordType::DNAME => {
            (name::parse_host(content, "content", false)?, None)
        }
        RecordType::MX => validate_mx(content, priority)?,
        RecordType::SRV => validate_srv(content, priority)?,
        RecordType::TXT | RecordType::SPF => (validate_txt(rtype, content)?, None),
        other => {
            let wire = parse_data(other, content)?;
            (rdata::print(other, &wire, false).map_err(content_error)?, None)
        }
    };
    Ok(RecordData { rtype, name, content, ttl, priority })
}

fn required<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str, ValidationError> {
    match value.as_deref() {
        Some(v) if !v.trim().is_empty() || field == "name" => Ok(v),
        _ => Err(ValidationError::new(field, format!("The field '{field}' is required"))),
    }
}

fn validate_priority(priority: i64) -> Result<u16, ValidationError> {
    u16::try_from(priority)
        .map_err(|_| ValidationError::new("priority", format!("Priority must be between 0 and 65535, got {priority}")))
}

fn parse_ip<T: FromStr + ToString>(content: &str, family: &str) -> Result<String, ValidationError> {
    content
        .trim()
        .parse::<T>()
        .map(|ip| ip.to_string())
        .map_err(|_| ValidationError::new("content", format!("'{content}' is not a valid {family} address")))
}

fn missing_priority(rtype: &str) -> ValidationError {
    ValidationError::new("priority", format!("Priority is required for {rtype} records"))
}

/// MX content is the exchange; `10 mail.example.com` (priority first, as in zone files) works too.
fn validate_mx(content: &str, priority: Option<u16>) -> Result<(String, Option<u16>), ValidationError> {
    let fields: Vec<&str> = content.split_whitespace().collect();
    let (priority, host) = match fields.as_slice() {
        [host] => (priority.ok_or_else(|| missing_priority("MX"))?, *host),
        [p, host] => (merge_priority(p, priority)?, *host),
        _ => {
            return Err(ValidationError::new("content", "MX content must be a mail server host name"));
        }
    };
    Ok((name::parse_host(host, "content", true)?, Some(priority)))
}

/// SRV content is `weight port target` with the priority field (VPS.org) or
/// `priority weight port target` (PocketDNS); stored as the former.
fn validate_srv(content: &str, priority: Option<u16>) -> Result<(String, Option<u16>), ValidationError> {
    let fields: Vec<&str> = content.split_whitespace().collect();
    let (priority, rest) = match fields.as_slice() {
        [p, rest @ ..] if rest.len() == 3 => (merge_priority(p, priority)?, rest),
        rest if rest.len() == 3 => (priority.ok_or_else(|| missing_priority("SRV"))?, rest),
        _ => {
            return Err(ValidationError::new(
                "content",
                "SRV content must be 'weight port target' or 'priority weight port target'",
            ));
        }
    };
    let number = |text: &str, what: &str| {
        text.parse::<u16>().map_err(|_| {
            ValidationError::new("content", format!("SRV {what} must be a number from 0 to 65535, got '{text}'"))
        })
    };
    let weight = number(rest[0], "weight")?;
    let port = number(rest[1], "port")?;
    let target = name::parse_host(rest[2], "content", true)?;
    Ok((format!("{weight} {port} {target}"), Some(priority)))
}

/// Whether `content` of an MX (`10 mail…`) or SRV (`10 60 5060 sip…`) record carries its
/// priority in front.
pub fn content_carries_priority(rtype: Option<&str>, content: &str) -> bool {
    let fields = content.split_whitespace().count();
    match rtype.and_then(|t| t.parse::<RecordType>().ok()) {
        Some(RecordType::MX) => fields == 2,
        Some(RecordType::SRV) => fields == 4,
        _ => false,
    }
}

/// A priority written inside the content must agree with the priority field, if both are given.
fn merge_priority(text: &str, field: Option<u16>) -> Result<u16, ValidationError> {
    let in_content = text
        .parse::<u16>()
        .map_err(|_| ValidationError::new("content", format!("'{text}' is not a valid priority (0-65535)")))?;
    match field {
        Some(p) if p != in_content => Err(ValidationError::new(
            "priority",
            format!("The priority field ({p}) disagrees with the priority in the content ({in_content})"),
        )),
        _ => Ok(in_content),
    }
}

fn content_error(message: String) -> ValidationError {
    ValidationError::new("content", message)
}

fn parse_data(rtype: RecordType, content: &str) -> Result<Vec<u8>, ValidationError> {
    rdata::parse(rtype, content, Names::Absolute).map_err(|e| content_error(format!("Invalid {rtype} data: {e}")))
}

/// TXT (and SPF) data. Text that starts with `"` is zone-file character-strings, with `\"`,
/// `\\` and `\DDD` escapes, kept string by string; other text is the plain text the vendor
/// documents describe, split into strings of 255 bytes on the wire. Stored plain whenever the
/// plain form gives the same strings.
fn validate_txt(rtype: RecordType, content: &str) -> Result<String, ValidationError> {
    let trimmed = content.trim();
    let strings = if trimmed.starts_with('"') {
        let wire = parse_data(rtype, trimmed)?;
        txt_strings(&wire)
    } else {
        if content.chars().any(|c| c.is_control()) {
            return Err(content_error(format!(
                "{rtype} text cannot contain control characters: write it as quoted strings with \\DDD escapes"
            )));
        }
        plain_strings(content)
    };
    let total: usize = strings.iter().map(Vec::len).sum();
    if total > MAX_TXT {
        return Err(content_error(format!("{rtype} content is limited to {MAX_TXT} bytes")));
    }
    Ok(txt_canonical(&strings))
}

/// Plain text as the strings it goes on the wire as.
fn plain_strings(text: &str) -> Vec<Vec<u8>> {
    if text.is_empty() {
        return vec![Vec::new()];
    }
    text.as_bytes().chunks(255).map(<[u8]>::to_vec).collect()
}

/// The character-strings of TXT wire data.
fn txt_strings(wire: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = wire;
    while let [len, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        out.push(tail[..len].to_vec());
        rest = &tail[len..];
    }
    out
}

/// Plain text when that round-trips to the same strings; zone-file strings otherwise.
fn txt_canonical(strings: &[Vec<u8>]) -> String {
    let joined: Vec<u8> = strings.concat();
    let printable = joined.iter().all(|b| (0x20..=0x7e).contains(b)) && joined.first() != Some(&b'"');
    if printable && plain_strings(&String::from_utf8_lossy(&joined)) == strings {
        String::from_utf8_lossy(&joined).into_owned()
    } else {
        strings.iter().map(|s| rdata::text::quote(s)).collect::<Vec<_>>().join(" ")
    }
}

/// The RDATA of a valid record, as the nameserver sends it.
pub fn wire(data: &RecordData) -> Option<Vec<u8>> {
    match data.rtype {
        RecordType::MX | RecordType::SRV => {
            let text = format!("{} {}", data.priority?, data.content);
            rdata::parse(data.rtype, &text, Names::Absolute).ok()
        }
        RecordType::TXT | RecordType::SPF if !data.content.trim_start().starts_with('"') => Some(
            plain_strings(&data.content)
                .iter()
                .flat_map(|s| std::iter::once(s.len() as u8).chain(s.iter().copied()))
                .collect(),
        ),
        other => rdata::parse(other, &data.content, Names::Absolute).ok(),
    }
}

/// A record's data in zone-file presentation (names with their trailing dot).
pub fn presentation(data: &RecordData) -> Option<String> {
    rdata::print(data.rtype, &wire(data)?, true).ok()
}

/// Why a valid record cannot join the records already at its name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Conflict(pub String);

/// RFC 1034 §3.6.2 and RFC 2181 §10.1: a CNAME stands alone at its name; exact duplicates are
/// refused. `same_name` holds the other records at the record's name (the record itself excluded).
pub fn check_coexistence<'a>(
    record: &RecordData,
    same_name: impl IntoIterator<Item = &'a RecordData>,
) -> Result<(), Conflict> {
    for other in same_name {
        if other.same_rdata(record) {
            return Err(Conflict(format!(
                "Record already exists: {} {} {}",
                record.name,
                record.rtype,
                record.content_with_priority()
            )));
        }
        if record.rtype == RecordType::CNAME || other.rtype == RecordType::CNAME {
            return Err(Conflict(format!(
                "A CNAME record cannot coexist with other records at '{}' (found {})",
                record.name, other.rtype
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(t: &str, name: &str, content: &str, priority: Option<i64>) -> RecordInput {
        RecordInput {
            rtype: Some(t.into()),
            name: Some(name.into()),
            content: Some(content.into()),
            ttl: None,
            priority,
        }
    }

    fn check(t: &str, content: &str, priority: Option<i64>) -> Result<RecordData, ValidationError> {
        validate_record("example.com", &input(t, "x", content, priority), 300, TtlPolicy::default())
    }

    #[test]
    fn canonical_contents() {
        assert_eq!(check("aaaa", "2001:0db8::1", None).unwrap().content, "2001:db8::1");
        assert_eq!(check("MX", "Mail.Example.com.", Some(10)).unwrap().content, "mail.example.com");
        assert_eq!(check("MX", "20 mail.example.com", None).unwrap().priority, Some(20));
        let srv = check("SRV", "10 60 5060 sip.example.com", None).unwrap();
        assert_eq!((srv.content.as_str(), srv.priority), ("60 5060 sip.example.com", Some(10)));
        assert_eq!(srv.content_with_priority(), "10 60 5060 sip.example.com");
        assert_eq!(check("SRV", "5060 5060 sip.example.com", Some(10)).unwrap().content, "5060 5060 sip.example.com");
        assert_eq!(check("CAA", "0 issue letsencrypt.org", None).unwrap().content, "0 issue \"letsencrypt.org\"");
        assert_eq!(check("TXT", "\"v=spf1 -all\"", None).unwrap().content, "v=spf1 -all");
        assert_eq!(check("TXT", "\"v=spf1 \" \"-all\"", None).unwrap().content, "\"v=spf1 \" \"-all\"");
        assert_eq!(check("TXT", "\"key\\010\"", None).unwrap().content, "\"key\\010\"");
        assert_eq!(check("A", "\\# 4 c0000201", None).unwrap().content, "192.0.2.1");
        assert_eq!(check("TYPE65400", "\\# 2 abcd", None).unwrap().content, "\\# 2 ABCD");
        assert_eq!(check("TXT", &"x".repeat(600), None).unwrap().content.len(), 600);
    }

    #[test]
    fn rejections() {
        assert_eq!(check("A", "300.1.1.1", None).unwrap_err().field.as_deref(), Some("content"));
        assert_eq!(check("MX", "mail.example.com", None).unwrap_err().message, "Priority is required for MX records");
        assert_eq!(check("SRV", "5060 sip.example.com", Some(1)).unwrap_err().field.as_deref(), Some("content"));
        assert!(check("BOGUS", "x", None).unwrap_err().message.contains("Supported types: A, AAAA"));
        assert!(check("SOA", "x", None).unwrap_err().message.contains("generated"));
        assert!(check("TLSA", "3 1 1 zz", None).unwrap_err().message.contains("TLSA syntax"));
        assert!(check("CNAME", "not a host", None).is_err());
        assert!(check("CAA", "256 issue x", None).is_err());
        assert!(
            validate_record("example.com", &input("CNAME", "@", "example.net", None), 300, TtlPolicy::default())
                .is_err()
        );
        let ttl = RecordInput { ttl: Some(59), ..input("A", "@", "192.0.2.1", None) };
        assert_eq!(
            validate_record("example.com", &ttl, 300, TtlPolicy::default()).unwrap_err().field.as_deref(),
            Some("ttl")
        );
    }

    #[test]
    fn cname_stands_alone() {
        let a = check("A", "192.0.2.1", None).unwrap();
        let cname = check("CNAME", "example.net", None).unwrap();
        assert!(check_coexistence(&cname, [&a]).is_err());
        assert!(check_coexistence(&a, [&cname]).is_err());
        assert!(check_coexistence(&a, [&a]).is_err());
        let b = check("A", "192.0.2.2", None).unwrap();
        assert!(check_coexistence(&b, [&a]).is_ok());
    }
}
