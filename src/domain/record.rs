//! What a valid DNS record is. `validate_record` is the ONE validator: the API dialects, the
//! console, the zone-file importer and dynamic UPDATE all call it.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{ValidationError, name};

pub const MIN_TTL: u32 = 60;
pub const MAX_TTL: u32 = 86_400;
/// TXT data longer than 255 bytes goes on the wire as several strings; this bounds the whole.
pub const MAX_TXT: usize = 4_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[allow(clippy::upper_case_acronyms)]
pub enum RecordType {
    A,
    AAAA,
    CNAME,
    MX,
    TXT,
    SRV,
    NS,
    CAA,
    PTR,
}

impl RecordType {
    pub const ALL: [RecordType; 9] =
        [Self::A, Self::AAAA, Self::CNAME, Self::MX, Self::TXT, Self::SRV, Self::NS, Self::CAA, Self::PTR];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::AAAA => "AAAA",
            Self::CNAME => "CNAME",
            Self::MX => "MX",
            Self::TXT => "TXT",
            Self::SRV => "SRV",
            Self::NS => "NS",
            Self::CAA => "CAA",
            Self::PTR => "PTR",
        }
    }

    pub fn needs_priority(self) -> bool {
        matches!(self, Self::MX | Self::SRV)
    }

    fn supported_list() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RecordType {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.trim().to_ascii_uppercase();
        Self::ALL.into_iter().find(|t| t.as_str() == upper).ok_or_else(|| {
            ValidationError::new(
                "type",
                format!("Unsupported record type '{s}'. Supported types: {}", Self::supported_list()),
            )
        })
    }
}

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
            rtype: Some(self.rtype.as_str().to_string()),
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

/// Validate one record for `zone` (its domain), giving it `default_ttl` when none was sent.
pub fn validate_record(zone: &str, input: &RecordInput, default_ttl: u32) -> Result<RecordData, ValidationError> {
    let rtype: RecordType = required(&input.rtype, "type")?.parse()?;
    let name = name::parse_owner(required(&input.name, "name")?, zone)?;
    let content = required(&input.content, "content")?;
    let ttl = validate_ttl(input.ttl, default_ttl)?;
    let priority = input.priority.map(validate_priority).transpose()?;
    if rtype == RecordType::CNAME && name == "@" {
        return Err(ValidationError::new("name", "CNAME records cannot be used for the root domain (@)"));
    }
    let (content, priority) = match rtype {
        RecordType::A => (parse_ip::<Ipv4Addr>(content, "IPv4")?, None),
        RecordType::AAAA => (parse_ip::<Ipv6Addr>(content, "IPv6")?, None),
        RecordType::CNAME | RecordType::NS | RecordType::PTR => (name::parse_host(content, "content", false)?, None),
        RecordType::MX => validate_mx(content, priority)?,
        RecordType::SRV => validate_srv(content, priority)?,
        RecordType::TXT => (validate_txt(content)?, None),
        RecordType::CAA => (validate_caa(content)?, None),
    };
    Ok(RecordData { rtype, name, content, ttl, priority })
}

fn required<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str, ValidationError> {
    match value.as_deref() {
        Some(v) if !v.trim().is_empty() || field == "name" => Ok(v),
        _ => Err(ValidationError::new(field, format!("The field '{field}' is required"))),
    }
}

pub fn validate_ttl(ttl: Option<i64>, default_ttl: u32) -> Result<u32, ValidationError> {
    match ttl {
        None => Ok(default_ttl),
        Some(t) if (i64::from(MIN_TTL)..=i64::from(MAX_TTL)).contains(&t) => Ok(t as u32),
        Some(t) => {
            Err(ValidationError::new("ttl", format!("TTL must be between {MIN_TTL} and {MAX_TTL} seconds, got {t}")))
        }
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

/// TXT takes any printable text; a value pasted as quoted strings (`"v=spf1" " -all"`, as zone
/// files and dig print it) is unquoted and joined.
fn validate_txt(content: &str) -> Result<String, ValidationError> {
    let text = unquote_strings(content.trim()).unwrap_or_else(|| content.to_string());
    if text.len() > MAX_TXT {
        return Err(ValidationError::new("content", format!("TXT content is limited to {MAX_TXT} bytes")));
    }
    if text.chars().any(|c| c.is_control()) {
        return Err(ValidationError::new("content", "TXT content cannot contain control characters"));
    }
    Ok(text)
}

/// `"a" "b"` → `ab`; None when the text is not entirely quoted strings.
fn unquote_strings(text: &str) -> Option<String> {
    if !text.starts_with('"') {
        return None;
    }
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => loop {
                match chars.next()? {
                    '"' => break,
                    '\\' => out.push(chars.next()?),
                    other => out.push(other),
                }
            },
            c if c.is_whitespace() => {}
            _ => return None,
        }
    }
    Some(out)
}

/// CAA: `flags tag "value"` (RFC 8659); canonical with the value quoted.
fn validate_caa(content: &str) -> Result<String, ValidationError> {
    let mut parts = content.trim().splitn(3, char::is_whitespace);
    let (Some(flags), Some(tag), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(ValidationError::new(
            "content",
            "CAA content must be 'flags tag \"value\"', e.g. 0 issue \"letsencrypt.org\"",
        ));
    };
    let flags: u8 = flags.parse().map_err(|_| {
        ValidationError::new("content", format!("CAA flags must be a number from 0 to 255, got '{flags}'"))
    })?;
    let tag = tag.to_ascii_lowercase();
    if tag.is_empty() || tag.len() > 15 || !tag.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ValidationError::new(
            "content",
            format!("CAA tag '{tag}' must be 1-15 letters or digits (issue, issuewild, iodef)"),
        ));
    }
    let value = value.trim();
    let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
    if value.contains('"') || value.chars().any(|c| c.is_control()) {
        return Err(ValidationError::new("content", "CAA value cannot contain quotes or control characters"));
    }
    Ok(format!("{flags} {tag} \"{value}\""))
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
        validate_record("example.com", &input(t, "x", content, priority), 300)
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
        assert_eq!(check("TXT", "\"v=spf1 \" \"-all\"", None).unwrap().content, "v=spf1 -all");
        assert_eq!(check("TXT", &"x".repeat(600), None).unwrap().content.len(), 600);
    }

    #[test]
    fn rejections() {
        assert_eq!(check("A", "300.1.1.1", None).unwrap_err().field.as_deref(), Some("content"));
        assert_eq!(check("MX", "mail.example.com", None).unwrap_err().message, "Priority is required for MX records");
        assert_eq!(check("SRV", "5060 sip.example.com", Some(1)).unwrap_err().field.as_deref(), Some("content"));
        assert!(check("SOA", "x", None).unwrap_err().message.contains("Supported types: A, AAAA"));
        assert!(check("CNAME", "not a host", None).is_err());
        assert!(check("CAA", "256 issue x", None).is_err());
        assert!(validate_record("example.com", &input("CNAME", "@", "example.net", None), 300).is_err());
        let ttl = RecordInput { ttl: Some(59), ..input("A", "@", "192.0.2.1", None) };
        assert_eq!(validate_record("example.com", &ttl, 300).unwrap_err().field.as_deref(), Some("ttl"));
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
