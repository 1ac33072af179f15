//! Every type's example parses, prints and parses again to the same wire data.

use super::*;

fn round_trip(name: &str, text: &str) -> String {
    let rtype: RecordType = name.parse().unwrap();
    let wire = parse(rtype, text, Names::Absolute).unwrap_or_else(|e| panic!("{name} {text}: {e}"));
    let printed = print(rtype, &wire, true).unwrap();
    let again = parse(rtype, &printed, Names::Absolute).unwrap_or_else(|e| panic!("{name} {printed}: {e}"));
    assert_eq!(wire, again, "{name}: {text} → {printed}");
    printed
}

#[test]
fn every_example_round_trips() {
    for d in DESCRIPTORS {
        let example = d.example.replace('…', "");
        let example = match d.name {
            "DS" => "60485 13 2 3C6B0E2B8EB1B6A21D7C4F43E5E8C2B0F9A8D39A61C7E9F4D6B2E7A8C9D0E1F2".to_string(),
            "DNSKEY" => {
                "257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="
                    .to_string()
            }
            "OPENPGPKEY" => "mQINBFit2jsBEADrbl5vjVxYeAE0g0IDYCBpHirv1Sjlqxx5gjtPhb2YhvyDMXjq".to_string(),
            "CERT" => "PKIX 0 0 MIIBAQ==".to_string(),
            _ => example,
        };
        round_trip(d.name, &example);
    }
}

#[test]
fn canonical_forms() {
    assert_eq!(
        round_trip("HTTPS", "1 . alpn=\"h2,h3\" port=8443 ipv4hint=192.0.2.1,192.0.2.2"),
        "1 . alpn=\"h2,h3\" port=8443 ipv4hint=192.0.2.1,192.0.2.2"
    );
    assert_eq!(
        round_trip("SVCB", "1 svc.example.com. port=53 mandatory=port,alpn alpn=dot no-default-alpn"),
        "1 svc.example.com. mandatory=alpn,port alpn=\"dot\" no-default-alpn port=53"
    );
    assert_eq!(round_trip("HTTPS", "0 www.example.com."), "0 www.example.com.");
    assert_eq!(round_trip("LOC", "52 22 23 N 4 53 32 E -2m"), "52 22 23.000 N 4 53 32.000 E -2m 1m 10000m 10m");
    assert_eq!(round_trip("CAA", "128 tbs \"Unknown\""), "128 tbs \"Unknown\"");
    assert_eq!(round_trip("TXT", "\"a\\\"b\" \"\\010\""), "\"a\\\"b\" \"\\010\"");
    assert_eq!(round_trip("CSYNC", "66 3 A NS AAAA"), "66 3 A NS AAAA");
    assert_eq!(round_trip("TYPE65400", "\\# 4 0a000001"), "\\# 4 0A000001");
    assert_eq!(round_trip("A", "\\# 4 0a000001"), "10.0.0.1");
}

#[test]
fn invalid_data_names_the_syntax() {
    let cases = [
        ("A", "300.1.1.1"),
        ("MX", "mail.example.com."),
        ("TLSA", "3 1 1 XYZ"),
        ("SSHFP", "4 2"),
        ("HTTPS", "1 . alpn"),
        ("HTTPS", "1 . port=99999"),
        ("LOC", "95 0 0 N 0 0 0 E 0m"),
        ("CAA", "0 is-sue \"x\""),
        ("A", "\\# 5 0a00000102"),
        ("TYPE65400", "plain words"),
        ("DS", "1 13 2"),
    ];
    for (name, text) in cases {
        let rtype: RecordType = name.parse().unwrap();
        let error = parse(rtype, text, Names::Absolute).unwrap_err();
        assert!(!error.is_empty(), "{name} {text}");
    }
    assert!("SOA".parse::<RecordType>().unwrap_err().message.contains("generated"));
    assert!("RRSIG".parse::<RecordType>().is_err());
    assert!("BOGUS".parse::<RecordType>().is_err());
}

#[test]
fn wire_data_from_anywhere_never_panics() {
    let mut seed = 7u64;
    for d in DESCRIPTORS {
        for len in 0..40 {
            let wire: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (seed >> 33) as u8
                })
                .collect();
            let _ = print(RecordType(d.code), &wire, true);
            let _ = targets(RecordType(d.code), &wire);
        }
    }
}
