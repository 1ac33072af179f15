//! The table of record types: one line each.

use super::Field::{self, *};

/// One record type: everything nsbox knows of it.
#[derive(Debug)]
pub struct Descriptor {
    pub name: &'static str,
    pub code: u16,
    pub fields: &'static [Field],
    /// The presentation syntax, for hints and error messages.
    pub syntax: &'static str,
    pub example: &'static str,
}

const fn d(
    name: &'static str,
    code: u16,
    fields: &'static [Field],
    syntax: &'static str,
    example: &'static str,
) -> Descriptor {
    Descriptor { name, code, fields, syntax, example }
}

pub static DESCRIPTORS: &[Descriptor] = &[
    d("A", 1, &[Ipv4], "<IPv4 address>", "192.0.2.1"),
    d("AAAA", 28, &[Ipv6], "<IPv6 address>", "2001:db8::1"),
    d("NS", 2, &[Name], "<name server>", "ns1.example.net."),
    d("CNAME", 5, &[Name], "<target name>", "www.example.net."),
    d("DNAME", 39, &[Name], "<target domain>", "example.net."),
    d("PTR", 12, &[Name], "<name>", "host.example.com."),
    d("MX", 15, &[U16, Name], "<preference> <mail server>", "10 mail.example.com."),
    d("TXT", 16, &[Texts], "<text> or \"<string>\" \"<string>\" … (\\\" \\\\ \\DDD escapes)", "\"v=spf1 -all\""),
    d("SPF", 99, &[Texts], "\"<string>\" …", "\"v=spf1 -all\""),
    d("SRV", 33, &[U16, U16, U16, Name], "<priority> <weight> <port> <target>", "10 60 5060 sip.example.com."),
    d(
        "NAPTR",
        35,
        &[U16, U16, Text, Text, Text, Name],
        "<order> <preference> \"<flags>\" \"<services>\" \"<regexp>\" <replacement>",
        "100 10 \"U\" \"E2U+sip\" \"!^.*$!sip:info@example.com!\" .",
    ),
    d("CAA", 257, &[U8, CaaTag, CaaValue], "<flags> <tag> \"<value>\"", "0 issue \"letsencrypt.org\""),
    d("DS", 43, &[U16, Algorithm, U8, Hex], "<key tag> <algorithm> <digest type> <digest hex>", "60485 13 2 3C6B…"),
    d("CDS", 59, &[U16, Algorithm, U8, Hex], "<key tag> <algorithm> <digest type> <digest hex>", "0 0 0 00"),
    d(
        "DNSKEY",
        48,
        &[U16, U8, Algorithm, Base64],
        "<flags> <protocol> <algorithm> <public key base64>",
        "257 3 13 mdsswUyr3…",
    ),
    d("CDNSKEY", 60, &[U16, U8, Algorithm, Base64], "<flags> <protocol> <algorithm> <public key base64>", "0 3 0 AA=="),
    d("SSHFP", 44, &[U8, U8, Hex], "<algorithm> <fingerprint type> <fingerprint hex>", "4 2 9F86D081…"),
    d("TLSA", 52, &[U8, U8, U8, Hex], "<usage> <selector> <matching type> <data hex>", "3 1 1 0C72AC70…"),
    d("SMIMEA", 53, &[U8, U8, U8, Hex], "<usage> <selector> <matching type> <data hex>", "3 0 1 0C72AC70…"),
    d("OPENPGPKEY", 61, &[Base64], "<public key base64>", "mQINBFit2jsBEAD…"),
    d(
        "SVCB",
        64,
        &[U16, Name, SvcParams],
        "<priority> <target> [key=value …] (mandatory alpn no-default-alpn port ipv4hint ech ipv6hint dohpath)",
        "1 . alpn=h2,h3 port=8443",
    ),
    d("HTTPS", 65, &[U16, Name, SvcParams], "<priority> <target> [key=value …]", "1 . alpn=h2,h3 ipv4hint=192.0.2.1"),
    d(
        "LOC",
        29,
        &[Loc],
        "<d> [<m> [<s>]] N|S <d> [<m> [<s>]] E|W <altitude>m [<size>m [<horizontal>m [<vertical>m]]]",
        "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m",
    ),
    d("URI", 256, &[U16, U16, UriTarget], "<priority> <weight> \"<target URI>\"", "10 1 \"https://example.com/\""),
    d(
        "CERT",
        37,
        &[CertType, U16, Algorithm, Base64],
        "<type> <key tag> <algorithm> <certificate base64>",
        "PKIX 0 0 MIIB…",
    ),
    d("HINFO", 13, &[Text, Text], "\"<cpu>\" \"<os>\"", "\"x86_64\" \"Linux\""),
    d("RP", 17, &[Name, Name], "<mailbox name> <TXT name>", "hostmaster.example.com. ."),
    d("AFSDB", 18, &[U16, Name], "<subtype> <host>", "1 afsdb.example.com."),
    d("CSYNC", 62, &[U32, U16, Bitmap], "<SOA serial> <flags> <type> …", "66 3 A NS AAAA"),
    d("ZONEMD", 63, &[U32, U8, U8, Hex], "<serial> <scheme> <hash algorithm> <digest hex>", "2018031900 1 1 FEBE3D4C…"),
];

/// DNSSEC algorithm mnemonics (RFC 8624 and the IANA registry).
pub static ALGORITHMS: &[(&str, u16)] = &[
    ("RSAMD5", 1),
    ("DH", 2),
    ("DSA", 3),
    ("RSASHA1", 5),
    ("DSA-NSEC3-SHA1", 6),
    ("RSASHA1-NSEC3-SHA1", 7),
    ("RSASHA256", 8),
    ("RSASHA512", 10),
    ("ECC-GOST", 12),
    ("ECDSAP256SHA256", 13),
    ("ECDSAP384SHA384", 14),
    ("ED25519", 15),
    ("ED448", 16),
    ("INDIRECT", 252),
    ("PRIVATEDNS", 253),
    ("PRIVATEOID", 254),
];

/// CERT certificate types (RFC 4398).
pub static CERT_TYPES: &[(&str, u16)] = &[
    ("PKIX", 1),
    ("SPKI", 2),
    ("PGP", 3),
    ("IPKIX", 4),
    ("ISPKI", 5),
    ("IPGP", 6),
    ("ACPKIX", 7),
    ("IACPKIX", 8),
    ("URI", 253),
    ("OID", 254),
];

/// Types that are no record data of their own but appear in type bitmaps.
static OTHER_TYPES: &[(&str, u16)] =
    &[("SOA", 6), ("OPT", 41), ("RRSIG", 46), ("NSEC", 47), ("NSEC3", 50), ("NSEC3PARAM", 51)];

/// The code of a type name or `TYPEnnn`, as type bitmaps list them.
pub fn code_of(name: &str) -> Result<u16, String> {
    let upper = name.to_ascii_uppercase();
    DESCRIPTORS
        .iter()
        .map(|d| (d.name, d.code))
        .chain(OTHER_TYPES.iter().copied())
        .find(|(n, _)| *n == upper)
        .map(|(_, code)| code)
        .or_else(|| upper.strip_prefix("TYPE").and_then(|n| n.parse().ok()))
        .ok_or_else(|| format!("'{name}' is not a record type"))
}

/// The name of a type code in a bitmap.
pub fn name_of(code: u16) -> String {
    OTHER_TYPES
        .iter()
        .find(|(_, c)| *c == code)
        .map(|(n, _)| n.to_string())
        .unwrap_or_else(|| super::RecordType(code).to_string())
}
