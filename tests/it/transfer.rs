//! Zone transfers: denied by default, AXFR in several messages, IXFR from the journal, and a
//! real BIND secondary kept in step by NOTIFY + IXFR.

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use serde_json::json;

use crate::dig::dig;
use crate::support::Server;

fn serial(s: &Server, t: &str, z: &str) -> u64 {
    s.get(&format!("/api/v1/dns-zones/{z}/"), t).body["serial"].as_u64().unwrap_or(0)
}

#[test]
fn axfr_is_refused_unless_allowed_and_spans_messages() {
    let s = Server::start();
    let t = s.user_token("xfr", &[], &[]);
    let z = s.zone(&t, "example.com");
    for batch in 0..3 {
        let records: Vec<_> = (0..1000)
            .map(|i| json!({"type": "A", "name": format!("host{batch}-{i}"), "content": "192.0.2.1"}))
            .collect();
        assert_eq!(s.post(&format!("/api/v1/domains/{z}/dns/bulk"), &t, json!({"records": records})).status, 201);
    }

    let denied = dig(s.dns, &["+tcp", "example.com", "AXFR"]);
    assert!(denied.answer.is_empty() && denied.raw.contains("Transfer failed"), "{}", denied.raw);

    let allowed = s.send("PATCH", &format!("/api/v1/dns-zones/{z}/"), &t, json!({"allow_transfer": ["127.0.0.0/8"]}));
    assert_eq!(allowed.body["allow_transfer"], json!(["127.0.0.0/8"]), "{}", allowed.text);
    let axfr = dig(s.dns, &["+tcp", "+stats", "example.com", "AXFR"]);
    assert_eq!(axfr.answer.len(), 3000 + 3, "SOA, NS, records, SOA: {}", &axfr.raw[..300.min(axfr.raw.len())]);
    assert_eq!((axfr.answer[0].2.as_str(), axfr.answer.last().unwrap().2.as_str()), ("SOA", "SOA"));
    let messages =
        axfr.raw.split("messages ").nth(1).and_then(|r| r.split(',').next()).and_then(|n| n.parse::<u32>().ok());
    assert!(messages.is_some_and(|m| m > 1), "a large zone goes in several messages: {messages:?}");
    // AXFR needs TCP: over UDP it is a FORMERR. Below the apex: NOTAUTH.
    let udp = crate::dig::udp(s.dns, &crate::dig::message("example.com.", RecordType::AXFR));
    assert_eq!(udp.metadata.response_code, ResponseCode::FormErr);
    let below = crate::dig::tcp_pipelined(s.dns, &[crate::dig::message("host0-1.example.com.", RecordType::AXFR)]);
    assert_eq!(below[0].metadata.response_code, ResponseCode::NotAuth);
}

#[test]
fn tsig_keys_admit_transfers() {
    let s = Server::start();
    let t = s.user_token("tsig", &[], &[]);
    let z = s.zone(&t, "example.com");
    for batch in 0..2 {
        let records: Vec<_> = (0..1000)
            .map(|i| json!({"type": "TXT", "name": format!("t{batch}-{i}"), "content": "v=spf1 -all"}))
            .collect();
        s.post(&format!("/api/v1/domains/{z}/dns/bulk"), &t, json!({"records": records}));
    }
    s.post("/api/v1/tsig-keys", &t, json!({"name": "x"})).error(403, "forbidden");
    let key =
        s.post("/api/v1/tsig-keys", &s.admin_token, json!({"name": "xfr.example.net.", "algorithm": "hmac-sha256"}));
    assert_eq!(key.status, 201, "{}", key.text);
    let secret = key.body["secret"].as_str().unwrap().to_string();
    let listed = s.get("/api/v1/tsig-keys", &s.admin_token);
    assert!(listed.text.contains("xfr.example.net") && !listed.text.contains(&secret), "the secret is shown once");
    s.post("/api/v1/tsig-keys", &s.admin_token, json!({"name": "xfr.example.net"})).error(409, "conflict");
    s.post("/api/v1/tsig-keys", &s.admin_token, json!({"name": "k", "algorithm": "hmac-md5"}))
        .error(400, "validation_error");

    // Signed: every message of a multi-message AXFR verifies in dig.
    let signed =
        dig(s.dns, &["+tcp", "+stats", "-y", &format!("hmac-sha256:xfr.example.net:{secret}"), "example.com", "AXFR"]);
    let records = signed.answer.iter().filter(|r| r.2 != "TSIG").count();
    let signatures = signed.answer.iter().filter(|r| r.2 == "TSIG").count();
    assert_eq!(records, 2000 + 3, "{}", &signed.raw[signed.raw.len().saturating_sub(400)..]);
    assert!(signatures > 1, "each of the messages carries its TSIG: {signatures}");
    assert!(
        !signed.raw.contains("failure") && !signed.raw.contains("failed"),
        "{}",
        &signed.raw[signed.raw.len() - 300..]
    );
    let wrong = dig(
        s.dns,
        &[
            "+tcp",
            "-y",
            "hmac-sha256:xfr.example.net:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=",
            "example.com",
            "AXFR",
        ],
    );
    let refused = |d: &crate::dig::Dig| d.answer.iter().all(|r| r.2 == "TSIG");
    assert!(refused(&wrong) && wrong.raw.contains("BADSIG"), "{}", wrong.raw);
    let unknown = dig(s.dns, &["+tcp", "-y", &format!("hmac-sha256:other.key:{secret}"), "example.com", "AXFR"]);
    assert!(refused(&unknown) && unknown.raw.contains("BADKEY"), "{}", unknown.raw);
    // A key limited to another zone is refused here.
    let limited = s.post("/api/v1/tsig-keys", &s.admin_token, json!({"name": "only-org", "zones": ["example.org"]}));
    let other_secret = limited.body["secret"].as_str().unwrap();
    assert!(refused(&dig(
        s.dns,
        &["+tcp", "-y", &format!("hmac-sha256:only-org:{other_secret}"), "example.com", "AXFR"]
    )));
    assert_eq!(s.delete("/api/v1/tsig-keys/xfr.example.net", &s.admin_token).status, 204);
    assert!(refused(&dig(
        s.dns,
        &["+tcp", "-y", &format!("hmac-sha256:xfr.example.net:{secret}"), "example.com", "AXFR"]
    )));
}

#[test]
fn ixfr_sends_the_journal() {
    let s = Server::start();
    let t = s.user_token("ixfr", &[], &[]);
    let z = s.zone(&t, "example.com");
    s.send("PATCH", &format!("/api/v1/dns-zones/{z}/"), &t, json!({"allow_transfer": ["127.0.0.1"]}));
    let a =
        s.post(&format!("/api/v1/domains/{z}/dns"), &t, json!({"type": "A", "name": "www", "content": "192.0.2.1"}));
    let before = serial(&s, &t, &z);
    let id = a.body["id"].as_str().unwrap();
    s.send("PUT", &format!("/api/v1/domains/{z}/dns/{id}"), &t, json!({"content": "192.0.2.2"}));
    s.post(&format!("/api/v1/domains/{z}/dns"), &t, json!({"type": "TXT", "name": "new", "content": "hello"}));
    let after = serial(&s, &t, &z);

    let ixfr = dig(s.dns, &["+tcp", "example.com", &format!("IXFR={before}")]);
    let shape: Vec<String> = ixfr
        .answer
        .iter()
        .map(|r| format!("{} {}", r.2, r.3.split(' ').nth(2).filter(|_| r.2 == "SOA").unwrap_or(&r.3)))
        .collect();
    let expected = [
        format!("SOA {after}"),
        format!("SOA {before}"),
        "A 192.0.2.1".to_string(),
        format!("SOA {}", before + 1),
        "A 192.0.2.2".to_string(),
        format!("SOA {}", before + 1),
        format!("SOA {after}"),
        "TXT \"hello\"".to_string(),
        format!("SOA {after}"),
    ];
    assert_eq!(shape, expected, "{}", ixfr.raw);
    // Up to date: just the SOA. Unknown serial: the whole zone (AXFR form).
    assert_eq!(dig(s.dns, &["+tcp", "example.com", &format!("IXFR={after}")]).answer.len(), 1);
    let fallback = dig(s.dns, &["+tcp", "example.com", "IXFR=1"]);
    assert_eq!(fallback.answer.iter().filter(|r| r.2 == "SOA").count(), 2);
    assert!(fallback.answer.iter().any(|r| r.3 == "\"hello\""));
}

pub fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).map(|a| a.port()).unwrap_or(0)
}

/// A BIND configuration for a secondary on `port` that takes NOTIFY from loopback: the
/// options every test's secondary shares, `options` more, then `rest` (keys, zones).
pub fn named_conf(dir: &std::path::Path, port: u16, options: &str, rest: &str) -> String {
    format!(
        r#"options {{
    directory "{dir}";
    pid-file "{dir}/named.pid";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnssec-validation no;
    notify no;
    allow-notify {{ 127.0.0.1; }};
{options}}};
controls {{ }};
{rest}"#,
        dir = dir.display(),
    )
}

pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// `program` (named or knotd) as a secondary of `primary` with the configuration `config`
/// writes, once it answers. A port another test took meanwhile means another try on
/// another port; both secondaries also poll every two seconds, so one moved off the port
/// nsbox sends NOTIFY to still follows.
pub fn secondary(
    program: &str,
    args: &[&str],
    mut port: u16,
    primary: SocketAddr,
    config: fn(&Path, u16, SocketAddr) -> String,
    probe: &str,
) -> (Named, SocketAddr, tempfile::TempDir) {
    for _ in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("server.conf");
        std::fs::write(&conf, config(dir.path(), port, primary)).unwrap();
        let child = Command::new(program)
            .args(args)
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{program} (bash .ci/run installs bind9 and knot): {e}"));
        let server = Named(child);
        let addr = loopback(port);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::time::Instant::now() < deadline {
            // Any answer will do: Knot refuses queries for a catalog it interprets.
            if !dig(addr, &[probe, "SOA"]).status.is_empty() {
                return (server, addr, dir);
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        port = free_port();
    }
    panic!("{program} did not start");
}

pub struct Named(pub Child);

impl Drop for Named {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits up to a minute: secondaries starting beside the rest of the suite on two cores are
/// slow to load, though each step takes well under a second alone.
pub fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn bind_secondary_follows_by_notify_and_ixfr() {
    // The operator lets users send NOTIFY to secondaries on this machine.
    let config = nsbox::config::ServeConfig {
        allow_notify_to: vec!["127.0.0.0/8".parse().unwrap()],
        ..nsbox::config::ServeConfig::default()
    };
    let s = Server::start_with(config);
    let t = s.user_token("bind", &[], &[]);
    let z = s.zone(&t, "example.com");
    s.post(&format!("/api/v1/domains/{z}/dns"), &t, json!({"type": "A", "name": "www", "content": "192.0.2.1"}));
    s.post(&format!("/api/v1/domains/{z}/dns"), &t, json!({"type": "TXT", "name": "@", "content": "x".repeat(600)}));

    // The secondary authenticates with TSIG; its address alone would be refused.
    let key = s.post("/api/v1/tsig-keys", &s.admin_token, json!({"name": "xfr.example.net", "zones": ["example.com"]}));
    let secret = key.body["secret"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let named_addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let conf = dir.path().join("named.conf");
    let zone = format!(
        r#"key "xfr.example.net" {{
    algorithm hmac-sha256;
    secret "{secret}";
}};
zone "example.com" {{
    type secondary;
    primaries {{ 127.0.0.1 port {primary} key "xfr.example.net"; }};
    file "{dir}/example.com.db";
}};
"#,
        dir = dir.path().display(),
        primary = s.dns.port(),
    );
    std::fs::write(&conf, named_conf(dir.path(), port, "", &zone)).unwrap();
    let settings = s.send("PATCH", &format!("/api/v1/dns-zones/{z}/"), &t, json!({"notify": [named_addr.to_string()]}));
    assert_eq!(settings.status, 200, "{}", settings.text);

    let _named = Named(
        Command::new("named")
            .args(["-g", "-n", "1", "-c"])
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("named is installed (bash .ci/run installs bind9)"),
    );
    // The secondary loads the zone by AXFR.
    let current = serial(&s, &t, &z);
    wait_for("the AXFR", || {
        dig(named_addr, &["example.com", "SOA"]).answer.first().is_some_and(|r| r.3.contains(&format!(" {current} ")))
    });
    assert_eq!(dig(named_addr, &["www.example.com", "A"]).data("A"), ["192.0.2.1"]);
    assert!(!dir.path().join("example.com.db.jnl").exists(), "no journal yet: the zone came whole");

    // A change: NOTIFY, then IXFR, and the secondary serves it.
    let r = s.post(
        &format!("/api/v1/dns-zones/{z}/records/"),
        &t,
        json!({"record_type": "A", "name": "new", "value": "192.0.2.99"}),
    );
    assert_eq!(r.status, 201);
    wait_for("the change to reach BIND", || dig(named_addr, &["new.example.com", "A"]).data("A") == ["192.0.2.99"]);
    assert!(dir.path().join("example.com.db.jnl").exists(), "BIND applied the change incrementally (IXFR journal)");
    let ours = dig(s.dns, &["example.com", "TXT"]);
    let theirs = dig(named_addr, &["example.com", "TXT"]);
    assert_eq!(ours.answer, theirs.answer, "a 600-byte TXT went across intact");
}
