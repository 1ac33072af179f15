//! Domain and record names: parse, normalise (lowercase, IDN → A-labels), length rules.
//! Stored names carry no trailing dot; record names are relative to their zone, `@` at the apex.

use super::ValidationError;

/// Longest presentation name without the trailing dot (RFC 1035: 255 octets on the wire).
const MAX_NAME: usize = 253;
const MAX_LABEL: usize = 63;

#[derive(Clone, Copy, PartialEq)]
enum LabelRules {
    /// Zone apexes: letters, digits, hyphens.
    Domain,
    /// Host names that records point at: also underscores (`_spf.example.com`).
    Host,
    /// Owner names inside a zone: also a leading `*` label.
    Owner,
}

/// A zone's domain, e.g. from `{"domain": "Example.COM."}` → `example.com`.
pub fn parse_domain(input: &str) -> Result<String, ValidationError> {
    let field = "domain";
    let name = to_ascii_lower(input.trim().trim_end_matches('.'), field)?;
    if name.is_empty() {
        return Err(ValidationError::new(field, "Invalid domain name: it is empty"));
    }
    check_labels(&name, LabelRules::Domain, field)?;
    Ok(name)
}

/// A host name a record points at (CNAME, MX, NS, SRV, PTR targets). Always absolute;
/// a trailing dot is accepted and dropped. `.` (the root) is allowed only where `allow_root`.
pub fn parse_host(input: &str, field: &str, allow_root: bool) -> Result<String, ValidationError> {
    let trimmed = input.trim();
    if trimmed == "." {
        return if allow_root {
            Ok(".".to_string())
        } else {
            Err(ValidationError::new(field, "The root name '.' is not a valid target here"))
        };
    }
    let name = to_ascii_lower(trimmed.trim_end_matches('.'), field)?;
    if name.is_empty() {
        return Err(ValidationError::new(field, "A host name is required"));
    }
    check_labels(&name, LabelRules::Host, field)?;
    Ok(name)
}

/// An owner name within `zone`, returned relative to it (`@` for the apex).
/// Accepts `@`, relative names (`www`, `_sip._tcp`, `*.dev`) and names inside the zone written
/// in full, with or without the trailing dot (`www.example.com.` → `www`).
pub fn parse_owner(input: &str, zone: &str) -> Result<String, ValidationError> {
    let field = "name";
    let raw = input.trim();
    if raw.is_empty() || raw == "@" {
        return Ok("@".to_string());
    }
    let absolute = raw.ends_with('.');
    let name = to_ascii_lower(raw.trim_end_matches('.'), field)?;
    if name.is_empty() {
        return Err(ValidationError::new(field, "Invalid record name"));
    }
    let relative = if name == zone {
        String::new()
    } else if let Some(prefix) = name.strip_suffix(zone).and_then(|p| p.strip_suffix('.')) {
        prefix.to_string()
    } else if absolute {
        return Err(ValidationError::new(field, format!("The name '{raw}' is outside the zone {zone}")));
    } else {
        name
    };
    if relative.is_empty() {
        return Ok("@".to_string());
    }
    check_labels(&relative, LabelRules::Owner, field)?;
    if relative.len() + 1 + zone.len() > MAX_NAME {
        return Err(ValidationError::new(
            field,
            format!("The full name {relative}.{zone} is longer than {MAX_NAME} characters"),
        ));
    }
    Ok(relative)
}

/// An absolute name (no trailing dot; `.` or empty is the root) in wire form, lowercase: the
/// canonical form DNSSEC signs and hashes (RFC 4034 §6.2).
pub fn wire_lowercase(name: &str) -> Vec<u8> {
    let mut wire = Vec::with_capacity(name.len() + 2);
    for label in name.split('.').filter(|l| !l.is_empty()) {
        wire.push(label.len().min(63) as u8);
        wire.extend(label.bytes().take(63).map(|b| b.to_ascii_lowercase()));
    }
    wire.push(0);
    wire
}

/// The absolute name (no trailing dot) of a relative owner name.
pub fn absolute(relative: &str, zone: &str) -> String {
    if relative == "@" { zone.to_string() } else { format!("{relative}.{zone}") }
}

fn to_ascii_lower(input: &str, field: &str) -> Result<String, ValidationError> {
    if input.is_ascii() {
        return Ok(input.to_ascii_lowercase());
    }
    // Internationalised names are stored as A-labels (punycode), as on the wire.
    idna::domain_to_ascii(input)
        .map_err(|_| ValidationError::new(field, format!("'{input}' is not a valid internationalised name")))
}

fn check_labels(name: &str, rules: LabelRules, field: &str) -> Result<(), ValidationError> {
    if name.len() > MAX_NAME {
        return Err(ValidationError::new(field, format!("Names must be 1-{MAX_NAME} characters long")));
    }
    for (index, label) in name.split('.').enumerate() {
        check_label(label, index == 0 && rules == LabelRules::Owner, rules, field)?;
    }
    Ok(())
}

fn check_label(label: &str, wildcard_allowed: bool, rules: LabelRules, field: &str) -> Result<(), ValidationError> {
    if label.is_empty() {
        return Err(ValidationError::new(field, "Names cannot contain empty labels ('..')"));
    }
    if label == "*" {
        return if wildcard_allowed {
            Ok(())
        } else {
            Err(ValidationError::new(field, "A wildcard '*' may only be the leftmost label"))
        };
    }
    if label.len() > MAX_LABEL {
        return Err(ValidationError::new(field, format!("Labels must be at most {MAX_LABEL} characters: '{label}'")));
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(ValidationError::new(field, format!("Labels cannot start or end with a hyphen: '{label}'")));
    }
    let underscore_ok = rules != LabelRules::Domain;
    let valid = label
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || (underscore_ok && b == b'_'));
    if !valid {
        return Err(ValidationError::new(
            field,
            format!(
                "'{label}' may contain only letters, digits, hyphens{}",
                if underscore_ok { " and underscores" } else { "" }
            ),
        ));
    }
    Ok(())
}

/// A list of names a key or token may change: absolute names, `*.parent` for any name below
/// `parent`; normalised.
pub fn parse_name_policy(names: &[String], field: &str) -> Result<Vec<String>, ValidationError> {
    names
        .iter()
        .map(|n| match n.trim().strip_prefix("*.") {
            Some(parent) => parse_host(parent, field, false).map(|p| format!("*.{p}")),
            None => parse_host(n, field, false),
        })
        .collect()
}

/// Whether `owner` (absolute, no trailing dot) is one of `policy`'s names; an empty policy
/// allows every name.
pub fn policy_allows(policy: &[String], owner: &str) -> bool {
    policy.is_empty()
        || policy.iter().any(|n| match n.strip_prefix("*.") {
            Some(parent) => owner.strip_suffix(parent).is_some_and(|rest| rest.ends_with('.')),
            None => n == owner,
        })
}

/// Names under which every name belongs to everyone: special-use names (RFC 6761, 6762,
/// 7686, 8375, 9476) and their reverse-mapping parents.
const SPECIAL_USE: [&str; 12] = [
    "arpa",
    "in-addr.arpa",
    "ip6.arpa",
    "home.arpa",
    "localhost",
    "invalid",
    "test",
    "example",
    "local",
    "onion",
    "alt",
    "internal",
];

/// Whether `domain` (A-label, no trailing dot) is a public suffix — a TLD, `co.uk`,
/// `github.io`, any unknown single label — or a special-use name: a zone there would answer for
/// names that belong to other people, so only an administrator may create one. The list is
/// the Public Suffix List as the `psl` crate compiles it.
pub fn is_public_suffix(domain: &str) -> bool {
    SPECIAL_USE.contains(&domain) || psl::suffix(domain.as_bytes()).is_some_and(|s| s.as_bytes() == domain.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_suffixes_and_special_names() {
        for suffix in ["org", "arpa", "in-addr.arpa", "localhost", "co.uk", "github.io", "lan", "example"] {
            assert!(is_public_suffix(suffix), "{suffix}");
        }
        for own in ["example.org", "2.0.192.in-addr.arpa", "example.co.uk", "me.github.io", "nsbox.test"] {
            assert!(!is_public_suffix(own), "{own}");
        }
    }

    #[test]
    fn owner_names() {
        let z = "example.com";
        assert_eq!(parse_owner("@", z).unwrap(), "@");
        assert_eq!(parse_owner("", z).unwrap(), "@");
        assert_eq!(parse_owner("WWW", z).unwrap(), "www");
        assert_eq!(parse_owner("www.example.com.", z).unwrap(), "www");
        assert_eq!(parse_owner("www.example.com", z).unwrap(), "www");
        assert_eq!(parse_owner("example.com.", z).unwrap(), "@");
        assert_eq!(parse_owner("_sip._tcp", z).unwrap(), "_sip._tcp");
        assert_eq!(parse_owner("*", z).unwrap(), "*");
        assert_eq!(parse_owner("*.dev", z).unwrap(), "*.dev");
        assert!(parse_owner("www.other.com.", z).is_err());
        assert!(parse_owner("a.*", z).is_err());
        assert!(parse_owner("-bad", z).is_err());
        assert!(parse_owner("bad-", z).is_err());
        assert!(parse_owner("a..b", z).is_err());
        assert!(parse_owner(&"a".repeat(64), z).is_err());
        assert!(parse_owner("sp ace", z).is_err());
        assert_eq!(parse_owner("bücher", z).unwrap(), "xn--bcher-kva");
    }

    #[test]
    fn domains_and_hosts() {
        assert_eq!(parse_domain("Example.COM.").unwrap(), "example.com");
        assert_eq!(parse_domain("münchen.de").unwrap(), "xn--mnchen-3ya.de");
        assert!(parse_domain("not a domain").is_err());
        assert!(parse_domain("_x.com").is_err());
        assert_eq!(parse_host("Mail.Example.com.", "content", false).unwrap(), "mail.example.com");
        assert_eq!(parse_host(".", "content", true).unwrap(), ".");
        assert!(parse_host(".", "content", false).is_err());
        assert!(parse_host("192.0.2.1 x", "content", false).is_err());
    }
}
