//! RFC 2136 dynamic updates with the real nsupdate, signed with TSIG keys of the admin API.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::json;

use crate::dig::dig;
use crate::support::Server;

/// Runs nsupdate with these commands; returns (success, output).
fn nsupdate(s: &Server, key: Option<&str>, commands: &str) -> (bool, String) {
    let mut cmd = Command::new("nsupdate");
    if let Some(k) = key {
        cmd.args(["-y", k]);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nsupdate (bind9-dnsutils)");
    let script = format!("server 127.0.0.1 {}\nzone example.com\n{commands}\nsend\n", s.dns.port());
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn key(s: &Server, name: &str, zones: &[&str]) -> String {
    let r = s.post("/api/v1/tsig-keys", &s.admin_token, json!({"name": name, "zones": zones}));
    assert_eq!(r.status, 201, "{}", r.text);
    format!("hmac-sha256:{name}:{}", r.body["secret"].as_str().unwrap())
}

#[test]
fn nsupdate_adds_and_deletes_with_tsig() {
    let s = Server::start();
    let t = s.user_token("upd", &[], &[]);
    let z = s.zone(&t, "example.com");
    let k = key(&s, "update.example.com", &["example.com"]);

    let (ok, out) = nsupdate(
        &s,
        Some(&k),
        "update add www.example.com. 300 A 192.0.2.5\nupdate add www.example.com. 300 AAAA 2001:db8::5\nupdate add mail.example.com. 3600 MX 10 mx.example.net.",
    );
    assert!(ok, "{out}");
    assert_eq!(dig(s.dns, &["www.example.com", "A"]).data("A"), ["192.0.2.5"]);
    assert_eq!(dig(s.dns, &["mail.example.com", "MX"]).data("MX"), ["10 mx.example.net."]);
    let listed = s.get(&format!("/api/v1/domains/{z}/dns"), &t);
    assert_eq!(listed.body["total"], 3, "the API sees what UPDATE wrote");

    // certbot-dns-rfc2136's round: add the challenge TXT, check it resolves, delete it.
    let (ok, out) = nsupdate(&s, Some(&k), "update add _acme-challenge.example.com. 60 TXT \"xK3-challenge-token\"");
    assert!(ok, "{out}");
    assert_eq!(dig(s.dns, &["_acme-challenge.example.com", "TXT"]).data("TXT"), ["\"xK3-challenge-token\""]);
    let (ok, out) = nsupdate(&s, Some(&k), "update delete _acme-challenge.example.com. 60 TXT \"xK3-challenge-token\"");
    assert!(ok, "{out}");
    assert_eq!(dig(s.dns, &["_acme-challenge.example.com", "TXT"]).status, "NXDOMAIN");

    // Delete an RRset, then a whole name.
    assert!(nsupdate(&s, Some(&k), "update delete www.example.com. AAAA").0);
    assert_eq!(dig(s.dns, &["www.example.com", "AAAA"]).answer.len(), 0);
    assert_eq!(dig(s.dns, &["www.example.com", "A"]).data("A"), ["192.0.2.5"]);
    assert!(nsupdate(&s, Some(&k), "update delete www.example.com.").0);
    assert_eq!(dig(s.dns, &["www.example.com", "A"]).status, "NXDOMAIN");
    // The apex NS and SOA are nsbox's.
    assert!(nsupdate(&s, Some(&k), "update delete example.com. NS\nupdate delete example.com. SOA").0);
    assert_eq!(dig(s.dns, &["example.com", "NS"]).data("NS"), ["ns1.nsbox.invalid."]);
    // The history names the key that made each change.
    let mut admin = crate::web::Browser::new(&s);
    admin.login("admin", crate::support::ADMIN_PASSWORD);
    let history = admin.get("/history").body;
    assert!(history.contains("tsig:update.example.com") && history.contains("dns.update"), "{history}");
}

#[test]
fn prerequisites_decide_and_messages_are_all_or_nothing() {
    let s = Server::start();
    let t = s.user_token("pre", &[], &[]);
    s.zone(&t, "example.com");
    let k = key(&s, "pre.example.com", &[]);
    assert!(nsupdate(&s, Some(&k), "prereq nxdomain new.example.com.\nupdate add new.example.com. 300 A 192.0.2.1").0);
    let (ok, out) =
        nsupdate(&s, Some(&k), "prereq nxdomain new.example.com.\nupdate add new.example.com. 300 A 192.0.2.2");
    assert!(!ok && out.contains("YXDOMAIN"), "{out}");
    let (ok, out) =
        nsupdate(&s, Some(&k), "prereq yxrrset new.example.com. AAAA\nupdate add other.example.com. 300 A 192.0.2.3");
    assert!(!ok && out.contains("NXRRSET"), "{out}");
    assert_eq!(dig(s.dns, &["other.example.com", "A"]).status, "NXDOMAIN", "nothing of a failed message is applied");
    // Value-dependent: the RRset must be exactly this.
    assert!(
        nsupdate(
            &s,
            Some(&k),
            "prereq yxrrset new.example.com. A 192.0.2.1\nupdate add other.example.com. 300 A 192.0.2.3"
        )
        .0
    );
    let (ok, out) =
        nsupdate(&s, Some(&k), "prereq yxrrset new.example.com. A 192.0.2.9\nupdate delete new.example.com. A");
    assert!(!ok && out.contains("NXRRSET"), "{out}");
    assert!(nsupdate(&s, Some(&k), "prereq nxrrset new.example.com. TXT\nprereq yxdomain new.example.com.\nupdate add new.example.com. 300 TXT \"ok\"").0);
    assert_eq!(dig(s.dns, &["new.example.com", "TXT"]).data("TXT"), ["\"ok\""]);
    // Names outside the zone: NOTZONE.
    let (ok, out) = nsupdate(&s, Some(&k), "update add www.example.org. 300 A 192.0.2.1");
    assert!(!ok && out.contains("NOTZONE"), "{out}");
}

#[test]
fn unsigned_or_wrongly_signed_updates_change_nothing() {
    let s = Server::start();
    let t = s.user_token("nosig", &[], &[]);
    s.zone(&t, "example.com");
    let (ok, out) = nsupdate(&s, None, "update add www.example.com. 300 A 192.0.2.1");
    assert!(!ok && out.contains("REFUSED"), "{out}");
    let (ok, out) = nsupdate(
        &s,
        Some("hmac-sha256:nobody:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="),
        "update add www.example.com. 300 A 192.0.2.1",
    );
    assert!(!ok, "{out}");
    let other = key(&s, "org-only", &["example.org"]);
    let (ok, out) = nsupdate(&s, Some(&other), "update add www.example.com. 300 A 192.0.2.1");
    assert!(!ok && out.contains("REFUSED"), "a key for another zone: {out}");
    assert_eq!(dig(s.dns, &["www.example.com", "A"]).status, "NXDOMAIN");
}

#[test]
fn keys_can_be_limited_to_names_and_types() {
    let s = Server::start();
    let t = s.user_token("policy", &[], &[]);
    s.zone(&t, "example.com");
    let r = s.post("/api/v1/tsig-keys", &s.admin_token, json!({"name": "acme", "zones": ["example.com"], "names": ["_acme-challenge.example.com", "*.dyn.example.com"], "types": ["TXT", "A"]}));
    assert_eq!((r.status, r.body["types"].clone()), (201, json!(["TXT", "A"])), "{}", r.text);
    let k = format!("hmac-sha256:acme:{}", r.body["secret"].as_str().unwrap());
    assert!(nsupdate(&s, Some(&k), "update add _acme-challenge.example.com. 60 TXT \"t\"").0);
    assert!(nsupdate(&s, Some(&k), "update add host1.dyn.example.com. 60 A 192.0.2.1").0);
    let (ok, out) = nsupdate(&s, Some(&k), "update add www.example.com. 60 A 192.0.2.1");
    assert!(!ok && out.contains("REFUSED"), "a name outside the policy: {out}");
    let (ok, out) = nsupdate(&s, Some(&k), "update add host1.dyn.example.com. 60 AAAA 2001:db8::1");
    assert!(!ok && out.contains("REFUSED"), "a type outside the policy: {out}");
    s.post("/api/v1/tsig-keys", &s.admin_token, json!({"name": "bad", "types": ["SOA"]}))
        .error(400, "validation_error");
}

#[test]
fn dnspython_updates_with_prerequisites() {
    let s = Server::start();
    let t = s.user_token("py", &[], &[]);
    s.zone(&t, "example.com");
    let r = s.post("/api/v1/tsig-keys", &s.admin_token, json!({"name": "py.example.com", "algorithm": "hmac-sha512"}));
    let secret = r.body["secret"].as_str().unwrap();
    let script = r#"
import sys, dns.update, dns.query, dns.tsigkeyring, dns.rcode, dns.tsig
port, secret = int(sys.argv[1]), sys.argv[2]
keyring = dns.tsigkeyring.from_text({"py.example.com.": ("hmac-sha512", secret)})
def send(build):
    u = dns.update.UpdateMessage("example.com", keyring=keyring, keyalgorithm=dns.tsig.HMAC_SHA512)
    build(u)
    return dns.rcode.to_text(dns.query.tcp(u, "127.0.0.1", port=port, timeout=5).rcode())
print(send(lambda u: (u.absent("svc"), u.add("svc", 300, "A", "192.0.2.10"))))
print(send(lambda u: (u.absent("svc"), u.add("svc", 300, "A", "192.0.2.11"))))
print(send(lambda u: (u.present("svc", "A", "192.0.2.10"), u.replace("svc", 600, "A", "192.0.2.12"))))
print(send(lambda u: (u.present("svc", "TXT"), u.delete("svc"))))
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(s.dns.port().to_string())
        .arg(secret)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(text.lines().collect::<Vec<_>>(), ["NOERROR", "YXDOMAIN", "NOERROR", "NXRRSET"]);
    let a = dig(s.dns, &["svc.example.com", "A"]);
    assert_eq!(
        (a.data("A"), a.answer[0].1),
        (vec!["192.0.2.12".to_string()], 600),
        "replaced by a value-dependent update"
    );
}
