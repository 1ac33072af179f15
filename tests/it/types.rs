//! Every record type, held and served as Knot serves it: one zone file with an example of
//! each type goes to `knotd` (the oracle, on a free loopback port) and into nsbox through
//! each entry point; `dig` over UDP and TCP must print the same answers from both.

use std::io::Write;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::Server;

/// One valid example of every type, as a zone file's records (owner, type, data). The SVCB
/// `dohpath` key is written `key7`: Debian's Knot 3.2 predates its name.
const EXAMPLES: &[(&str, &str, &str)] = &[
    ("a", "A", "192.0.2.1"),
    ("aaaa", "AAAA", "2001:db8::1"),
    ("cname", "CNAME", "target.example.net."),
    ("dname", "DNAME", "example.net."),
    ("ptr", "PTR", "host.example.net."),
    ("mx", "MX", "10 mail.example.net."),
    ("txt", "TXT", "\"v=spf1 -all\""),
    ("txt-binary", "TXT", "\"key\\010with\\\"escapes\\\\\" \"second\""),
    ("spf", "SPF", "\"v=spf1 -all\""),
    ("_sip._tcp", "SRV", "10 60 5060 sip.example.net."),
    ("naptr", "NAPTR", "100 10 \"U\" \"E2U+sip\" \"!^.*$!sip:info@example.net!\" ."),
    ("caa", "CAA", "128 issue \"letsencrypt.org\""),
    ("caa-tbs", "CAA", "0 tbs \"Unknown\""),
    ("ds", "DS", "60485 13 2 3C6B0E2B8EB1B6A21D7C4F43E5E8C2B0F9A8D39A61C7E9F4D6B2E7A8C9D0E1F2"),
    ("cds", "CDS", "0 0 0 00"),
    (
        "dnskey",
        "DNSKEY",
        "257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==",
    ),
    ("cdnskey", "CDNSKEY", "0 3 0 AA=="),
    ("sshfp", "SSHFP", "4 2 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"),
    ("_443._tcp", "TLSA", "3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6"),
    ("smimea", "SMIMEA", "3 0 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6"),
    ("openpgpkey", "OPENPGPKEY", "mQINBFit2jsBEADrbl5vjVxYeAE0g0IDYCBpHirv1Sjlqxx5gjtPhb2YhvyDMXjq"),
    (
        "svcb",
        "SVCB",
        "1 svc.example.net. mandatory=alpn alpn=h2,h3 no-default-alpn port=8443 ipv4hint=192.0.2.1 ipv6hint=2001:db8::1 key7=\"/dns-query{?dns}\"",
    ),
    ("https", "HTTPS", "1 . alpn=h2 ech=AEP+DQA="),
    ("https-alias", "HTTPS", "0 cdn.example.net."),
    ("loc", "LOC", "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m"),
    ("uri", "URI", "10 1 \"https://example.net/path\""),
    ("cert", "CERT", "PKIX 0 0 MIIBAQ=="),
    ("hinfo", "HINFO", "\"x86_64\" \"Linux\""),
    ("rp", "RP", "hostmaster.example.net. txt.example.net."),
    ("afsdb", "AFSDB", "1 afsdb.example.net."),
    ("csync", "CSYNC", "66 3 A NS AAAA"),
    (
        "zonemd",
        "ZONEMD",
        "2018031900 1 1 FEBE3D4CE2EC2FFA4BA99D46CD69D6D29711E55217057BEE7EB1A7B641A47BA7FED2DD5B97AE499FAFA4F22C6BD647DE",
    ),
    ("generic", "TYPE65400", "\\# 4 0A000001"),
    ("generic-a", "A", "\\# 4 C0000202"),
];

const ZONE: &str = "types.example";

fn zone_file() -> String {
    let mut text = format!(
        "$ORIGIN {ZONE}.\n$TTL 3600\n@ SOA ns1.nsbox.invalid. hostmaster.{ZONE}. 1 3600 600 604800 3600\n@ NS ns1.nsbox.invalid.\n"
    );
    for (owner, rtype, data) in EXAMPLES {
        text.push_str(&format!("{owner} 3600 IN {rtype} {data}\n"));
    }
    text
}

/// `knotd` serving `text` as ZONE on a free loopback port, stopped when dropped.
struct Knot {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Knot {
    /// Starts knotd on a free port; a port another test took in the meantime means a retry.
    fn serve(text: &str) -> Knot {
        Self::serve_with_key(text, None)
    }

    /// Knot that also lets a TSIG key (hmac-sha256, base64 secret) transfer the zone.
    fn serve_with_key(text: &str, key: Option<&str>) -> Knot {
        for _ in 0..5 {
            if let Some(knot) = Self::try_serve(text, key) {
                return knot;
            }
        }
        panic!("knotd did not load the zone");
    }

    fn try_serve(text: &str, key: Option<&str>) -> Option<Knot> {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).unwrap().port();
        let zone = dir.path().join("zone");
        std::fs::write(&zone, text).unwrap();
        let conf = dir.path().join("knot.conf");
        std::fs::write(
            &conf,
            format!(
                "server:\n  listen: 127.0.0.1@{port}\n  rundir: {d}\ndatabase:\n  storage: {d}\nlog:\n  - target: stderr\n    any: error\n{keys}zone:\n  - domain: {ZONE}\n    file: {z}\n    zonefile-sync: -1\n    journal-content: none\n{acl}",
                d = dir.path().display(),
                z = zone.display(),
                keys = key.map_or(String::new(), |k| format!(
                    "key:\n  - id: xfr.key\n    algorithm: hmac-sha256\n    secret: {k}\nacl:\n  - id: xfr\n    key: xfr.key\n    action: transfer\n"
                )),
                acl = if key.is_some() { "    acl: xfr\n" } else { "" }
            ),
        )
        .unwrap();
        let child = Command::new("knotd")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("knotd (Debian's knot package; bash .ci/run installs it)");
        let mut knot = Knot { child, addr: SocketAddr::from(([127, 0, 0, 1], port)), _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if answers(knot.addr, &format!("a.{ZONE}"), "A", false).iter().any(|l| l.ends_with("192.0.2.1")) {
                return Some(knot);
            }
            if Instant::now() > deadline || knot.child.try_wait().ok().flatten().is_some() {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Knot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The answer section as dig prints it, lowercased, sorted.
fn answers(server: SocketAddr, name: &str, rtype: &str, tcp: bool) -> Vec<String> {
    let out = Command::new("dig")
        .arg(format!("@{}", server.ip()))
        .args(["-p", &server.port().to_string(), "+norec", "+noall", "+answer", "+time=2", "+tries=2"])
        .arg(if tcp { "+tcp" } else { "+notcp" })
        .args([name, rtype])
        .output()
        .expect("dig");
    let mut lines: Vec<String> =
        String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.is_empty()).map(str::to_ascii_lowercase).collect();
    lines.sort();
    lines
}

fn assert_served_like_knot(nsbox: SocketAddr, knot: SocketAddr, what: &str) {
    for (owner, rtype, _) in EXAMPLES {
        let name = format!("{owner}.{ZONE}");
        for tcp in [false, true] {
            let ours = answers(nsbox, &name, rtype, tcp);
            let oracle = answers(knot, &name, rtype, tcp);
            assert!(!oracle.is_empty(), "knot serves {name} {rtype}");
            assert_eq!(ours, oracle, "{what}: {name} {rtype} over {}", if tcp { "TCP" } else { "UDP" });
        }
    }
}

#[test]
fn every_type_from_a_zone_file_is_served_as_knot_serves_it() {
    let knot = Knot::serve(&zone_file());
    let s = Server::start();
    let t = s.user_token("types", &[], &[]);
    let z = s.zone(&t, ZONE);
    let r = s.request("POST", &format!("/api/v1/dns-zones/{z}/import"), Some(&t), Some(zone_file().as_bytes()));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["refused"].as_array().map(Vec::len), Some(0), "{}", r.text);
    assert_served_like_knot(s.dns, knot.addr, "zone file");

    // Export → named-checkzone → import into a fresh zone: the same records, binary TXT too.
    let exported = s.request("GET", &format!("/api/v1/dns-zones/{z}/export"), Some(&t), None).text;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("zone"), &exported).unwrap();
    let check = Command::new("named-checkzone").arg(ZONE).arg(dir.path().join("zone")).output().unwrap();
    assert!(check.status.success(), "{}\n{exported}", String::from_utf8_lossy(&check.stdout));
    let list = |s: &Server, t: &str, z: &str| {
        let mut records: Vec<String> = s.get(&format!("/api/v1/domains/{z}/dns"), t).body["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| format!("{} {} {} {}", r["name"], r["type"], r["content"], r["ttl"]))
            .collect();
        records.sort();
        records
    };
    let before = list(&s, &t, &z);
    s.delete(&format!("/api/v1/dns-zones/{z}/"), &t);
    let z2 = s.zone(&t, ZONE);
    let again =
        s.request("POST", &format!("/api/v1/dns-zones/{z2}/import?mode=replace"), Some(&t), Some(exported.as_bytes()));
    assert_eq!(again.body["refused"].as_array().map(Vec::len), Some(0), "{}", again.text);
    assert_eq!(list(&s, &t, &z2), before, "export → import gives the same records");
}

/// The same examples through both API dialects, the console and RFC 2136: the same answers
/// as Knot's.
#[test]
fn every_type_through_the_dialects_the_console_and_rfc_2136_is_served_as_knot_serves_it() {
    let knot = Knot::serve(&zone_file());
    let s = Server::start();
    let t = s.user_token("dialects", &[], &[]);
    let z = s.zone(&t, ZONE);
    for (i, (owner, rtype, data)) in EXAMPLES.iter().enumerate() {
        let r = match i % 2 {
            0 => s.post(
                &format!("/api/v1/domains/{z}/dns"),
                &t,
                json!({"type": rtype, "name": owner, "content": data, "ttl": 3600}),
            ),
            _ => s.post(
                &format!("/api/v1/dns-zones/{z}/records/"),
                &t,
                json!({"record_type": rtype, "name": owner, "value": data, "ttl": 3600}),
            ),
        };
        assert_eq!(r.status, 201, "{owner} {rtype} {data}: {}", r.text);
    }
    assert_served_like_knot(s.dns, knot.addr, "API dialects");

    // The console's record form.
    s.delete(&format!("/api/v1/dns-zones/{z}/"), &t);
    let z = s.zone(&s.admin_token, ZONE);
    let mut browser = crate::web::Browser::new(&s);
    browser.login("admin", crate::support::ADMIN_PASSWORD);
    let csrf = browser.get("/zones").csrf();
    for (owner, rtype, data) in EXAMPLES {
        let form = [("type", *rtype), ("name", *owner), ("content", *data), ("ttl", "3600"), ("csrf", &csrf)];
        let page = browser.post(&format!("/zones/{z}/records"), &form);
        assert!(page.status == 200 && page.body.contains("notice good"), "{owner} {rtype} {data}: {}", page.body);
    }
    assert_served_like_knot(s.dns, knot.addr, "console");

    // RFC 2136: nsupdate adds each example to a second zone served beside its Knot twin.
    let key = s.post("/api/v1/tsig-keys", &s.admin_token, json!({"name": "types-key", "zones": [ZONE]}));
    let secret = key.body["secret"].as_str().unwrap().to_string();
    s.delete(&format!("/api/v1/dns-zones/{z}/"), &s.admin_token);
    s.zone(&t, ZONE);
    let mut script = format!("server 127.0.0.1 {}\nzone {ZONE}\n", s.dns.port());
    for (owner, rtype, data) in EXAMPLES {
        script.push_str(&format!("update add {owner}.{ZONE}. 3600 {rtype} {data}\n"));
    }
    script.push_str("send\n");
    let mut child = Command::new("nsupdate")
        .args(["-y", &format!("hmac-sha256:types-key:{secret}")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_served_like_knot(s.dns, knot.addr, "RFC 2136");
}

/// An invalid example of every type gets a 400 naming the field and the type's syntax.
#[test]
fn invalid_data_of_every_type_is_a_field_error_naming_its_syntax() {
    let s = Server::start();
    let t = s.user_token("invalid", &[], &[]);
    let z = s.zone(&t, ZONE);
    let invalid = [
        ("A", "192.0.2"),
        ("AAAA", "2001:db8::g"),
        ("CNAME", "not a name"),
        ("DNAME", "bad name!"),
        ("MX", "10 not a name!"),
        ("TXT", "\"unterminated"),
        ("SRV", "10 60 99999 sip.example.net."),
        ("NAPTR", "100 10 U"),
        ("CAA", "0 is-sue \"x\""),
        ("DS", "60485 13 2 XYZ"),
        ("DNSKEY", "257 3 13 !!!"),
        ("SSHFP", "4 2"),
        ("TLSA", "3 1 1"),
        ("SVCB", "1 . port=http"),
        ("HTTPS", "1 . alpn"),
        ("LOC", "91 0 0 N 0 0 0 E 0m"),
        ("URI", "10 1"),
        ("CERT", "PKIX 0"),
        ("HINFO", "\"only one\""),
        ("CSYNC", "66 3 NOTATYPE"),
        ("ZONEMD", "1 1 1"),
        ("TYPE65400", "\\# 4 0a00"),
    ];
    for (rtype, data) in invalid {
        let r = s.post(&format!("/api/v1/domains/{z}/dns"), &t, json!({"type": rtype, "name": "x", "content": data}));
        let body = r.error(400, "validation_error");
        assert_eq!(body["field"], "content", "{rtype} {data}: {}", r.text);
        let vps = s.post(
            &format!("/api/v1/dns-zones/{z}/records/"),
            &t,
            json!({"record_type": rtype, "name": "x", "value": data}),
        );
        assert_eq!(vps.error(400, "validation_error")["field"], "value", "{rtype} {data}: {}", vps.text);
    }
    let r = s.post(&format!("/api/v1/domains/{z}/dns"), &t, json!({"type": "SSHFP", "name": "x", "content": "4 2"}));
    assert!(r.body["detail"].as_str().unwrap().contains("SSHFP syntax: <algorithm>"), "{}", r.text);

    // A zone file refuses each such line, naming it; the console's form shows the error.
    let file: String = invalid.iter().map(|(rtype, data)| format!("x IN {rtype} {data}\n")).collect();
    let r = s.request("POST", &format!("/api/v1/dns-zones/{z}/import?dry_run=true"), Some(&t), Some(file.as_bytes()));
    let refused = r.body["refused"].as_array().map(Vec::len);
    assert_eq!(refused, Some(invalid.len()), "every line: {}", r.text);
    let admin_zone = s.zone(&s.admin_token, "console-invalid.example");
    let mut browser = crate::web::Browser::new(&s);
    browser.login("admin", crate::support::ADMIN_PASSWORD);
    let csrf = browser.get("/zones").csrf();
    let form =
        [("type", "TLSA"), ("name", "x"), ("content", "3 1 1 not-hex"), ("ttl", "3600"), ("csrf", csrf.as_str())];
    let page = browser.post(&format!("/zones/{admin_zone}/records"), &form);
    assert!(page.status == 400 && page.body.contains("TLSA syntax"), "the console names the syntax: {}", page.status);
}

/// The TTL policy: the API refuses a TTL outside it; zone files and RFC 2136 bring it inside
/// and say so; an operator widens it; a signed zone's signatures are dropped with a warning.
#[test]
fn ttl_policy_and_signed_source_zones() {
    let s = Server::start();
    let t = s.user_token("ttl", &[], &[]);
    let z = s.zone(&t, "ttl.example");
    let short = json!({"type": "A", "name": "dyn", "content": "192.0.2.1", "ttl": 30});
    s.post(&format!("/api/v1/domains/{z}/dns"), &t, short.clone()).error(400, "validation_error");
    let file = "$ORIGIN ttl.example.\n$TTL 3600\n@ 172800 NS ns1.example.net.\ndyn 30 A 192.0.2.1\n@ RRSIG A 13 2 3600 20260101000000 20251201000000 12345 ttl.example. AAAA\n@ DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==\ndyn NSEC ttl.example. A RRSIG NSEC\nwww NSEC ttl.example. A RRSIG NSEC\n";
    let r = s.request("POST", &format!("/api/v1/dns-zones/{z}/import"), Some(&t), Some(file.as_bytes()));
    assert_eq!((r.status, r.body["refused"].as_array().map(Vec::len)), (200, Some(0)), "{}", r.text);
    let warnings: Vec<String> = r.body["warnings"].as_array().unwrap().iter().map(|w| w["error"].to_string()).collect();
    assert_eq!(warnings.len(), 5, "two TTLs, and RRSIG, NSEC, DNSKEY once each: {warnings:?}");
    assert!(warnings.iter().any(|w| w.contains("TTL 172800") && w.contains("86400")), "{warnings:?}");
    assert!(warnings.iter().any(|w| w.contains("2 NSEC record(s)")), "{warnings:?}");
    let dig = crate::dig::dig(s.dns, &["dyn.ttl.example", "A"]);
    assert_eq!(dig.answer[0].1, 60, "brought up to the minimum");
    assert_eq!(crate::dig::dig(s.dns, &["ttl.example", "DNSKEY"]).answer.len(), 0, "the source's keys are dropped");

    // RFC 2136 takes a TTL outside the policy, brought inside it.
    let key = s.post("/api/v1/tsig-keys", &s.admin_token, json!({"name": "ttl-key", "zones": ["ttl.example"]}));
    let secret = key.body["secret"].as_str().unwrap().to_string();
    let mut child = Command::new("nsupdate")
        .args(["-y", &format!("hmac-sha256:ttl-key:{secret}")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let script = format!(
        "server 127.0.0.1 {}\nzone ttl.example\nupdate add short.ttl.example. 5 A 192.0.2.5\nsend\n",
        s.dns.port()
    );
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        crate::dig::dig(s.dns, &["short.ttl.example", "A"]).answer[0].1,
        60,
        "RFC 2136: brought up to the minimum"
    );

    let wide = nsbox::config::ServeConfig { ttl_min: 10, ttl_max: 604_800, ..nsbox::config::ServeConfig::default() };
    let s = Server::start_with(wide);
    let t = s.user_token("ttl", &[], &[]);
    let z = s.zone(&t, "ttl.example");
    assert_eq!(s.post(&format!("/api/v1/domains/{z}/dns"), &t, short).status, 201, "the operator's policy");
}

/// Whole answers — additional addresses for MX, SRV, HTTPS and NS targets, a CNAME into a
/// delegation, DNAME substitution, the DO bit — as Knot gives them.
#[test]
fn answers_follow_knot_beyond_the_answer_section() {
    let zone = format!(
        "$ORIGIN {ZONE}.\n$TTL 3600\n@ SOA ns1.nsbox.invalid. hostmaster.{ZONE}. 1 3600 600 604800 3600\n@ NS ns1.nsbox.invalid.\n\
         @ MX 10 mail\nmail A 192.0.2.25\nmail AAAA 2001:db8::25\n_sip._tcp SRV 0 5 5060 sip\nsip A 192.0.2.50\n\
         www HTTPS 1 web alpn=h2\nweb A 192.0.2.80\nchild NS ns.child\nns.child A 192.0.2.53\nalias CNAME host.child\n\
         old DNAME new\nhost.new A 192.0.2.99\na 3600 A 192.0.2.1\n"
    );
    let knot = Knot::serve(&zone);
    let s = Server::start();
    let t = s.user_token("sections", &[], &[]);
    let z = s.zone(&t, ZONE);
    let r = s.request("POST", &format!("/api/v1/dns-zones/{z}/import"), Some(&t), Some(zone.as_bytes()));
    assert_eq!(r.body["refused"].as_array().map(Vec::len), Some(0), "{}", r.text);
    let whole = |server: SocketAddr, name: &str, rtype: &str| {
        let out = Command::new("dig")
            .arg(format!("@{}", server.ip()))
            .args(["-p", &server.port().to_string(), "+norec", "+dnssec", "+nocmd", "+nostats", "+noquestion"])
            .args([name, rtype])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_ascii_lowercase();
        let mut lines: Vec<String> = text
            .lines()
            .filter(|l| !l.is_empty() && !l.contains("->>header<<-") && !l.starts_with(";; got answer"))
            .map(|l| {
                if l.starts_with(";; flags") {
                    l.split(';').nth(2).unwrap_or_default().to_string()
                } else {
                    l.to_string()
                }
            })
            .collect();
        lines.sort();
        lines
    };
    for (name, rtype) in [
        (ZONE.to_string(), "MX"),
        (format!("_sip._tcp.{ZONE}"), "SRV"),
        (format!("www.{ZONE}"), "HTTPS"),
        (format!("alias.{ZONE}"), "A"),
        (format!("host.old.{ZONE}"), "A"),
        (format!("x.child.{ZONE}"), "A"),
        (format!("a.{ZONE}"), "A"),
    ] {
        assert_eq!(whole(s.dns, &name, rtype), whole(knot.addr, &name, rtype), "{name} {rtype}");
    }
    // The comparison sees every section: the additional addresses and the echoed DO bit.
    let mx = whole(s.dns, ZONE, "MX");
    assert!(mx.iter().any(|l| l.starts_with("mail.types.example.") && l.contains("192.0.2.25")), "{mx:?}");
    assert!(mx.iter().any(|l| l.contains("flags: do")), "{mx:?}");
    let dname = whole(s.dns, &format!("host.old.{ZONE}"), "A");
    assert!(dname.iter().any(|l| l.contains("cname") && l.contains("host.new.types.example.")), "{dname:?}");
}

/// A migration in one step: the zone pulled from a running Knot by AXFR with TSIG, through
/// the API and the offline CLI, serves every type as Knot does; a wrong key is refused.
#[test]
fn a_zone_pulled_from_knot_by_axfr_with_tsig_is_served_as_knot_serves_it() {
    let secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=";
    let knot = Knot::serve_with_key(&zone_file(), Some(secret));
    let tsig = format!("xfr.key:hmac-sha256:{secret}");
    let s = Server::start();
    let z = s.zone(&s.admin_token, ZONE);
    let pull = |tsig: &str| {
        let query = format!("?from=axfr&server={}&tsig={}", knot.addr, tsig.replace('+', "%2B").replace('=', "%3D"));
        s.request("POST", &format!("/api/v1/dns-zones/{z}/import{query}"), Some(&s.admin_token), None)
    };
    let wrong = pull("xfr.key:hmac-sha256:d3Jvbmc=");
    assert_eq!(wrong.error(400, "validation_error")["field"], "server", "{}", wrong.text);
    let r = pull(&tsig);
    assert_eq!((r.status, r.body["refused"].as_array().map(Vec::len)), (200, Some(0)), "{}", r.text);
    assert_served_like_knot(s.dns, knot.addr, "AXFR through the API");
    // The console previews the same pull: everything is already there.
    let mut browser = crate::web::Browser::new(&s);
    browser.login("admin", crate::support::ADMIN_PASSWORD);
    let csrf = browser.get("/zones").csrf();
    let server = knot.addr.to_string();
    let form = [("server", server.as_str()), ("tsig", tsig.as_str()), ("mode", "merge"), ("csrf", &csrf)];
    let preview = browser.post(&format!("/zones/{z}/import"), &form);
    // The examples and the apex NS of the file.
    let unchanged = format!("0 to add, 0 to change, 0 to remove, {} unchanged, 0 refused", EXAMPLES.len() + 1);
    assert!(preview.body.contains(&unchanged), "the console's AXFR preview: {unchanged} not found");
    let tenant = s.user_token("tenant", &[], &[]);
    let tz = s.zone(&tenant, "tenant.example");
    let local = s.request(
        "POST",
        &format!("/api/v1/dns-zones/{tz}/import?from=axfr&server={}", knot.addr),
        Some(&tenant),
        None,
    );
    assert!(local.error(400, "validation_error")["detail"].as_str().unwrap().contains("local"), "{}", local.text);

    // Offline: a whole migration scripted without a running server.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("migrate.redb");
    crate::process::offline_token(&data);
    let (ok, out) = crate::process::run(crate::process::nsbox(&data).args(["zone", "create", ZONE, "--user", "ops"]));
    assert!(ok, "{out}");
    let server = knot.addr.to_string();
    let (ok, out) = crate::process::run(crate::process::nsbox(&data).args([
        "zone",
        "import",
        ZONE,
        "--from-axfr",
        &server,
        "--tsig",
        &tsig,
    ]));
    assert!(ok && out.contains("imported:"), "{out}");
    let (ok, exported) = crate::process::run(crate::process::nsbox(&data).args(["zone", "export", ZONE]));
    assert!(ok && exported.contains("TLSA") && exported.contains("HTTPS"), "{exported}");
}
