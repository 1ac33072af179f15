//! DNSSEC: zones signed online, judged by the validators Debian ships — BIND's `delv` (with the
//! DS the API gives as its only trust anchor) and `dnssec-verify`, and `ldns-verify-zone` — on
//! answers and on zone transfers, before and after changes through the API.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::dig::dig;
use crate::support::Server;
use crate::transfer::{free_port, named_conf, secondary, wait_for};

const RECORDS: &[(&str, &str, &str)] = &[
    ("www", "A", "192.0.2.1"),
    ("*.wild", "A", "192.0.2.2"),
    ("alias", "CNAME", "www.signed.test"),
    ("a.b.ent", "TXT", "deep"),
    ("insecure", "NS", "ns.insecure.signed.test"),
    ("ns.insecure", "A", "192.0.2.53"),
    ("secure", "NS", "ns.secure.signed.test"),
    ("ns.secure", "A", "192.0.2.54"),
    ("secure", "DS", "12345 13 2 3490A6806D47F17A34C29E2CE80E8A999FFBE4BE3490A6806D47F17A34C29E2C"),
    ("@", "MX", "10 www.signed.test"),
];

/// Each answer kind the issue names, as (question, whether it has data).
pub const QUESTIONS: &[(&str, &str, bool)] = &[
    ("www.signed.test", "A", true),
    ("x.wild.signed.test", "A", true),
    ("alias.signed.test", "A", true),
    ("signed.test", "DNSKEY", true),
    ("signed.test", "MX", true),
    ("secure.signed.test", "DS", true),
    ("nope.signed.test", "A", false),
    ("www.signed.test", "TXT", false),
    ("b.ent.signed.test", "A", false),
    ("x.wild.signed.test", "TXT", false),
    ("insecure.signed.test", "DS", false),
];

pub fn signed_zone(s: &Server, token: &str, body: serde_json::Value) -> String {
    let zone = s.zone(token, "signed.test");
    s.send("PATCH", &format!("/api/v1/dns-zones/{zone}/"), token, json!({"allow_transfer": ["127.0.0.1"]}));
    for (name, rtype, value) in RECORDS {
        add(s, token, &zone, name, rtype, value);
    }
    let signed = s.post(&format!("/api/v1/dns-zones/{zone}/dnssec"), token, body);
    assert_eq!(signed.status, 201, "{}", signed.text);
    assert_eq!(signed.body["enabled"], true, "{}", signed.text);
    let again = s.post(&format!("/api/v1/dns-zones/{zone}/dnssec"), token, json!({}));
    assert_eq!(again.status, 200, "signing a signed zone again changes nothing: {}", again.text);
    zone
}

/// Adds one record through the VPS.org API.
fn add(s: &Server, token: &str, zone: &str, name: &str, rtype: &str, value: &str) {
    let r = s.post(
        &format!("/api/v1/dns-zones/{zone}/records"),
        token,
        json!({"name": name, "record_type": rtype, "value": value}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
}

/// The DS from the API as a trust anchor file for delv.
fn anchor(s: &Server, token: &str, zone: &str, dir: &Path) -> std::path::PathBuf {
    anchor_file(dir, "anchor.conf", &ds_records(s, token, zone))
}

/// The DS records the API gives for the registrar.
pub fn ds_records(s: &Server, token: &str, zone: &str) -> Vec<String> {
    let state = s.get(&format!("/api/v1/dns-zones/{zone}/dnssec"), token);
    assert!(!state.text.to_lowercase().contains("private"), "{}", state.text);
    let ds: Vec<String> =
        state.body["ds"].as_array().into_iter().flatten().filter_map(|d| d.as_str()).map(String::from).collect();
    assert!(!ds.is_empty(), "{}", state.text);
    ds
}

/// A trust anchor file for delv: these DS records of signed.test.
pub fn anchor_file(dir: &Path, file: &str, ds: &[String]) -> std::path::PathBuf {
    let mut text = String::from("trust-anchors {\n");
    for record in ds {
        let fields: Vec<&str> = record.split(' ').collect();
        assert_eq!(fields.len(), 4, "{record}");
        text.push_str(&format!(
            "  signed.test. static-ds {} {} {} \"{}\";\n",
            fields[0], fields[1], fields[2], fields[3]
        ));
    }
    text.push_str("};\n");
    let path = dir.join(file);
    std::fs::write(&path, text).expect("write the anchor");
    path
}

/// A fresh server with signed.test signed as `body` asks, and delv's trust anchor for it.
struct Signed {
    s: Server,
    token: String,
    zone: String,
    anchor: std::path::PathBuf,
    dir: tempfile::TempDir,
}

fn signed(body: serde_json::Value) -> Signed {
    let s = Server::start();
    let token = s.admin_token.clone();
    let dir = tempfile::tempdir().expect("temp dir");
    let zone = signed_zone(&s, &token, body);
    let anchor = anchor(&s, &token, &zone, dir.path());
    Signed { s, token, zone, anchor, dir }
}

/// delv says "fully validated" for every question, asking `server`.
pub fn validates(server: SocketAddr, anchor: &Path) {
    for (name, rtype, positive) in QUESTIONS {
        delv(server, anchor, name, rtype, *positive);
    }
}

/// What delv says of one question: it must be "fully validated", positive or negative.
pub fn delv(server: SocketAddr, anchor: &Path, name: &str, rtype: &str, positive: bool) {
    let out = Command::new("delv")
        .arg("-a")
        .arg(anchor)
        .args(["+root=signed.test", &format!("@{}", server.ip()), "-p", &server.port().to_string(), name, rtype])
        .output()
        .expect("delv is installed (bash .ci/run installs bind9-dnsutils)");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let verdict = if positive { "; fully validated" } else { "; negative response, fully validated" };
    assert!(text.lines().any(|l| l == verdict), "{name} {rtype}: {text}");
}

/// An AXFR of the zone passes dnssec-verify and ldns-verify-zone.
pub fn verify_transfer(s: &Server, dir: &Path, denial: &str) {
    let axfr = dig(s.dns, &["+onesoa", "signed.test", "AXFR"]);
    let lines: Vec<&str> = axfr.raw.lines().filter(|l| !l.starts_with(';') && !l.trim().is_empty()).collect();
    assert!(lines.iter().any(|l| l.contains("RRSIG")), "{}", axfr.raw);
    let denial_type = denial.to_uppercase();
    assert!(axfr.answer.iter().any(|r| r.2 == denial_type), "{denial_type} records: {}", axfr.raw);
    let file = dir.join("signed.test.zone");
    std::fs::write(&file, lines.join("\n") + "\n").expect("write the transfer");
    // -z: one key signs everything (a CSK), so its SEP flag says nothing of which sets it signs.
    let bind =
        Command::new("dnssec-verify").args(["-z", "-o", "signed.test"]).arg(&file).output().expect("dnssec-verify");
    assert!(bind.status.success(), "dnssec-verify: {}", String::from_utf8_lossy(&bind.stderr));
    let ldns = Command::new("ldns-verify-zone").arg(&file).output().expect("ldns-verify-zone (ldnsutils)");
    assert!(
        ldns.status.success(),
        "ldns-verify-zone: {}{}",
        String::from_utf8_lossy(&ldns.stdout),
        String::from_utf8_lossy(&ldns.stderr)
    );
}

fn validates_throughout(algorithm: &str, denial: &str) {
    let Signed { s, token, zone, anchor, dir } = signed(json!({"algorithm": algorithm, "denial": denial}));
    validates(s.dns, &anchor);
    verify_transfer(&s, dir.path(), denial);

    // Changes through the API are signed before it answers.
    add(&s, &token, &zone, "new", "AAAA", "2001:db8::1");
    delv(s.dns, &anchor, "new.signed.test", "AAAA", true);
    add(&s, &token, &zone, "x.y.z", "TXT", "below two new empty non-terminals");
    delv(s.dns, &anchor, "y.z.signed.test", "TXT", false);
    let records = s.get(&format!("/api/v1/dns-zones/{zone}/records"), &token);
    for name in ["www", "a.b.ent"] {
        let id = records.body.as_array().and_then(|r| r.iter().find(|r| r["name"] == name)).map(|r| r["uuid"].clone());
        let id = id.and_then(|id| id.as_str().map(String::from)).expect("the record");
        let deleted = s.delete(&format!("/api/v1/dns-records/{id}"), &token);
        assert_eq!(deleted.status, 204, "{}", deleted.text);
    }
    delv(s.dns, &anchor, "www.signed.test", "A", false);
    delv(s.dns, &anchor, "b.ent.signed.test", "A", false);
    delv(s.dns, &anchor, "alias.signed.test", "A", true);
    verify_transfer(&s, dir.path(), denial);

    // Cuts that come and go: a name with data becomes a delegation (its data below turns to
    // glue), and a delegation goes (its glue becomes the zone's own data).
    add(&s, &token, &zone, "x.y", "NS", "ns.elsewhere.example");
    delv(s.dns, &anchor, "x.y.signed.test", "DS", false);
    let records = s.get(&format!("/api/v1/dns-zones/{zone}/records"), &token);
    let cut =
        records.body.as_array().and_then(|r| r.iter().find(|r| r["name"] == "insecure" && r["record_type"] == "NS"));
    let cut = cut.and_then(|r| r["uuid"].as_str().map(String::from)).expect("the NS");
    assert_eq!(s.delete(&format!("/api/v1/dns-records/{cut}"), &token).status, 204);
    delv(s.dns, &anchor, "ns.insecure.signed.test", "A", true);
    verify_transfer(&s, dir.path(), denial);
}

#[test]
fn ecdsa_with_nsec_validates_before_and_after_changes() {
    validates_throughout("ecdsap256sha256", "nsec");
}

#[test]
fn ecdsa_with_nsec3_validates_before_and_after_changes() {
    validates_throughout("ecdsap256sha256", "nsec3");
}

#[test]
fn ed25519_with_nsec_validates_before_and_after_changes() {
    validates_throughout("ed25519", "nsec");
}

#[test]
fn ed25519_with_nsec3_validates_before_and_after_changes() {
    validates_throughout("ed25519", "nsec3");
}

#[test]
fn signatures_go_only_to_clients_that_ask_and_going_insecure_is_safe() {
    let s = Server::start();
    let token = s.admin_token.clone();
    let zone = signed_zone(&s, &token, json!({}));
    let plain = dig(s.dns, &["www.signed.test", "A"]);
    assert_eq!(plain.data("A"), ["192.0.2.1"]);
    assert!(plain.answer.iter().all(|r| r.2 != "RRSIG"), "no DO, no RRSIG: {}", plain.raw);
    let secure = dig(s.dns, &["+dnssec", "www.signed.test", "A"]);
    assert!(secure.answer.iter().any(|r| r.2 == "RRSIG"), "{}", secure.raw);
    assert!(secure.raw.contains("flags: do"), "the DO bit is echoed: {}", secure.raw);
    let cds = dig(s.dns, &["signed.test", "CDS"]);
    assert_eq!(cds.answer.len(), 1, "CDS of the key for the parent: {}", cds.raw);
    let metrics = s.request("GET", "/metrics", None, None).text;
    let expiry = metric(&metrics, "nsbox_dnssec_signature_expiry_seconds{zone=\"signed.test\"}");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs() as f64;
    assert!(expiry > now + 12.0 * 86_400.0 && expiry < now + 15.0 * 86_400.0, "{metrics}");
    let made = metric(&metrics, "nsbox_dnssec_signatures_total");
    assert!(made >= 20.0, "{metrics}");
    add(&s, &token, &zone, "counted", "A", "192.0.2.9");
    let after = metric(&s.request("GET", "/metrics", None, None).text, "nsbox_dnssec_signatures_total");
    assert!(after > made, "a change's signatures are counted too: {made} then {after}");

    // Another user does not learn the zone exists.
    let other = s.user_token("mallory", &[], &[]);
    s.get(&format!("/api/v1/dns-zones/{zone}/dnssec"), &other).error(404, "not_found");
    let stolen = s.post(&format!("/api/v1/dns-zones/{zone}/dnssec"), &other, json!({}));
    stolen.error(404, "not_found");
    s.post(&format!("/api/v1/dns-zones/{zone}/dnssec"), &token, json!({"algorithm": "rsa"}))
        .error(400, "validation_error");

    // Going insecure: first the CDS/CDNSKEY "delete" records (RFC 8078), still signed.
    let leaving = s.delete(&format!("/api/v1/dns-zones/{zone}/dnssec"), &token);
    assert_eq!(leaving.body["state"], "unsigning", "{}", leaving.text);
    assert_eq!(dig(s.dns, &["signed.test", "CDS"]).data("CDS"), ["0 0 0 00"]);
    assert_eq!(dig(s.dns, &["signed.test", "CDNSKEY"]).data("CDNSKEY"), ["0 3 0 AA=="]);
    assert_eq!(dig(s.dns, &["signed.test", "DNSKEY"]).answer.len(), 1, "still signed");
    // Then, when the operator says the DS is gone, unsigned.
    let gone = s.delete(&format!("/api/v1/dns-zones/{zone}/dnssec?force=true"), &token);
    assert_eq!(gone.body, json!({"enabled": false}), "{}", gone.text);
    let unsigned = dig(s.dns, &["+dnssec", "signed.test", "DNSKEY"]);
    assert!(unsigned.answer.is_empty() && unsigned.status == "NOERROR", "{}", unsigned.raw);
    assert!(!s.request("GET", "/metrics", None, None).text.contains("zone=\"signed.test\""));

    // No audit entry holds a private key.
    let history = s.service().history(&admin_actor(&s), Some(&zone), 100).expect("history");
    let text = serde_json::to_string(&history.iter().map(|e| (&e.action, &e.before, &e.after)).collect::<Vec<_>>())
        .expect("json");
    assert!(text.contains("zone.dnssec") && !text.contains("private"), "{text}");
}

fn admin_actor(s: &Server) -> nsbox::service::Actor {
    let admin = s.service().find_user("admin").expect("admin");
    nsbox::service::Actor::user(&admin, "test")
}

/// A BIND secondary of the signed zone: it takes the zone as nsbox sends it.
fn bind_secondary(dir: &Path, port: u16, primary: SocketAddr) -> String {
    let zone = format!(
        "zone \"signed.test\" {{\n    type secondary;\n    primaries {{ {} port {}; }};\n    file \"{}/signed.test.db\";\n}};\n",
        primary.ip(),
        primary.port(),
        dir.display()
    );
    named_conf(dir, port, "", &zone)
}

/// A Knot secondary of the signed zone.
fn knot_secondary(dir: &Path, port: u16, primary: SocketAddr) -> String {
    format!(
        "server:\n  listen: 127.0.0.1@{port}\n  rundir: {d}\ndatabase:\n  storage: {d}\nremote:\n  - id: nsbox\n    address: {ip}@{p}\n\
         zone:\n  - domain: signed.test\n    storage: {d}\n    master: nsbox\n    zonefile-sync: -1\n",
        d = dir.display(),
        ip = primary.ip(),
        p = primary.port(),
    )
}

#[test]
fn bind_and_knot_secondaries_serve_the_signed_zone_and_delv_validates_it() {
    let Signed { s, anchor, dir: _dir, .. } = signed(json!({"denial": "nsec3"}));
    let (_named, bind, _bind_dir) =
        secondary("named", &["-g", "-n", "1", "-c"], free_port(), s.dns, bind_secondary, "signed.test");
    let (_knot, knot, _knot_dir) = secondary("knotd", &["-c"], free_port(), s.dns, knot_secondary, "signed.test");
    for (who, server) in [("BIND", bind), ("Knot", knot)] {
        wait_for(&format!("{who} to load the signed zone"), || {
            let answer = dig(server, &["+dnssec", "www.signed.test", "A"]);
            answer.aa() && answer.answer.iter().any(|r| r.2 == "RRSIG")
        });
        validates(server, &anchor);
    }
}

/// A metric's value in Prometheus text.
fn metric(text: &str, series: &str) -> f64 {
    let line = text.lines().find(|l| l.starts_with(series)).unwrap_or_else(|| panic!("{series} in {text}"));
    line.rsplit(' ').next().and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{line}"))
}

#[test]
fn either_dialects_tokens_use_it_by_their_scopes_and_big_signed_answers_go_by_tcp() {
    let s = Server::start();
    let owner = s.user_token("owner", &[], &[]);
    let zone = signed_zone(&s, &owner, json!({}));
    let user_id = s.get("/api/v1/users", &s.admin_token).body["users"]
        .as_array()
        .and_then(|u| u.iter().find(|u| u["username"] == "owner").map(|u| u["id"].clone()))
        .expect("the owner");
    for style in ["vps", "sk_live"] {
        let token = |scopes: &[&str]| {
            let body =
                json!({"name": format!("{style} {scopes:?}"), "user_id": user_id, "scopes": scopes, "style": style});
            let made = s.post("/api/v1/tokens", &s.admin_token, body);
            assert_eq!(made.status, 201, "{}", made.text);
            made.body["token"].as_str().unwrap_or_default().to_string()
        };
        let (reader, updater) = (token(&["dns:read"]), token(&["dns:update"]));
        let path = format!("/api/v1/dns-zones/{zone}/dnssec");
        assert_eq!(s.get(&path, &reader).body["enabled"], true, "{style}");
        s.post(&format!("{path}/rollover"), &reader, json!({})).error(403, "forbidden");
        s.get(&path, &updater).error(403, "forbidden");
        if style == "vps" {
            let rolled = s.post(&format!("{path}/rollover"), &updater, json!({}));
            assert_eq!(rolled.status, 200, "{style}: {}", rolled.text);
            let confirmed = s.post(&format!("{path}/confirm-ds"), &updater, json!({}));
            assert_eq!(confirmed.status, 200, "{style}: {}", confirmed.text);
        } else {
            // One rollover at a time: the old key is still retiring.
            s.post(&format!("{path}/rollover"), &updater, json!({})).error(400, "validation_error");
            let leaving = s.request("DELETE", &path, Some(&updater), None);
            assert_eq!(leaving.body["state"], "unsigning", "{style}: {}", leaving.text);
        }
    }

    // An answer that fits in 512 bytes without its signatures but not with them.
    let text = "x".repeat(200);
    add(&s, &owner, &zone, "big", "TXT", &format!("\"{text}\" \"{text}\""));
    assert!(!dig(s.dns, &["+bufsize=512", "+ignore", "big.signed.test", "TXT"]).tc());
    let udp = dig(s.dns, &["+dnssec", "+bufsize=512", "+ignore", "big.signed.test", "TXT"]);
    assert!(udp.tc() && udp.answer.is_empty(), "{}", udp.raw);
    let tcp = dig(s.dns, &["+dnssec", "+tcp", "big.signed.test", "TXT"]);
    assert!(tcp.answer.iter().any(|r| r.2 == "RRSIG") && !tcp.tc(), "{}", tcp.raw);
}

#[test]
fn a_restart_signs_again_under_a_new_serial_with_the_same_keys() {
    let Signed { s, anchor, dir: _dir, .. } = signed(json!({"denial": "nsec3"}));
    let serial = |s: &Server| dig(s.dns, &["signed.test", "SOA"]).data("SOA")[0].split(' ').nth(2).map(String::from);
    let before = serial(&s);
    let s = s.restart();
    assert_ne!(serial(&s), before, "signatures made anew come with a new serial");
    validates(s.dns, &anchor);
}
