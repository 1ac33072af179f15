//! What an attacker tries: a weak token taking over its account or the server, a tenant
//! squatting a TLD, sessions outliving a password, redirects off the site, and floods of bad
//! secrets and sign-ins meant to exhaust memory.

use serde_json::json;

use crate::process::{Served, nsbox, offline_token, run};
use crate::support::Server;
use crate::web::{Browser, user};

/// The id of the user a token belongs to.
fn me(s: &Server, token: &str) -> String {
    s.get("/api/v1/me", token).body["id"].as_str().unwrap_or_default().to_string()
}

#[test]
fn a_weak_token_cannot_take_over_its_account() {
    let s = Server::start();
    let full = s.user_token("dana", &[], &[]);
    s.zone(&full, "dana.example");
    let weak = s.user_token("dana", &["dns:read"], &["dana.example"]);
    let id = me(&s, &weak);

    let takeover = s.send("PATCH", &format!("/api/v1/users/{id}"), &weak, json!({"password": "attacker-password-1"}));
    takeover.error(400, "validation_error");
    assert_eq!(takeover.body["field"], "current_password", "{}", takeover.text);
    let wrong = json!({"password": "attacker-password-1", "current_password": "a guess at it"});
    s.send("PATCH", &format!("/api/v1/users/{id}"), &weak, wrong).error(400, "validation_error");

    let tokens = s.get("/api/v1/tokens", &full);
    let full_id = tokens.body["tokens"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["scopes"].as_array().is_some_and(|s| s.len() == 5)))
        .and_then(|t| t["id"].as_str())
        .unwrap()
        .to_string();
    s.delete(&format!("/api/v1/tokens/{full_id}"), &weak).error(403, "forbidden");
    assert_eq!(s.get("/api/v1/dns-zones/", &full).status, 200, "the full token still works");

    // The owner, who knows the password, changes it with the current one.
    let set = s.send("PATCH", &format!("/api/v1/users/{id}"), &s.admin_token, json!({"password": "dana-password-1"}));
    assert_eq!(set.status, 200, "an admin sets another user's password: {}", set.text);
    let change = json!({"password": "dana-password-2", "current_password": "dana-password-1"});
    assert_eq!(s.send("PATCH", &format!("/api/v1/users/{id}"), &full, change).status, 200);
}

#[test]
fn an_admins_narrow_token_is_no_admin() {
    let s = Server::start();
    s.zone(&s.admin_token, "admin-zone.example");
    let narrow = s.user_token("admin", &["dns:read"], &["admin-zone.example"]);
    let all_dns = s.user_token("admin", &["dns:list", "dns:read", "dns:create", "dns:update", "dns:delete"], &[]);
    for token in [&narrow, &all_dns] {
        s.post("/api/v1/users", token, json!({"username": "mallory"})).error(403, "forbidden");
        let key = json!({"name": "xfr.example", "algorithm": "hmac-sha256"});
        s.post("/api/v1/tsig-keys", token, key).error(403, "forbidden");
        s.get("/api/v1/backup", token).error(403, "forbidden");
        s.get("/api/v1/users", token).error(403, "forbidden");
    }
    let admin = s.user_token("admin", &["admin"], &[]);
    assert_eq!(s.post("/api/v1/users", &admin, json!({"username": "mallory"})).status, 201);
    let weak_user = s.user_token("mallory", &[], &[]);
    let granted = s.post("/api/v1/tokens", &weak_user, json!({"name": "x", "scopes": ["admin"]}));
    granted.error(403, "forbidden");
}

#[test]
fn tenants_cannot_create_public_suffixes_or_special_names() {
    let s = Server::start();
    let tenant = s.user_token("erin", &[], &[]);
    for domain in ["org", "arpa", "in-addr.arpa", "localhost", "co.uk", "github.io"] {
        let r = s.post("/api/v1/dns-zones/", &tenant, json!({"domain": domain}));
        r.error(400, "validation_error");
        assert!(r.body["detail"].as_str().unwrap_or_default().contains("public suffix"), "{domain}: {}", r.text);
    }
    s.zone(&tenant, "erin.example.org");
    s.zone(&tenant, "2.0.192.in-addr.arpa");
    let admin = s.user_token("admin", &["admin", "dns:create"], &[]);
    s.zone(&admin, "internal");
}

#[test]
fn a_password_change_ends_the_users_other_sessions() {
    let s = Server::start();
    let password = user(&s, "frank");
    let (mut here, mut elsewhere) = (Browser::new(&s), Browser::new(&s));
    assert_eq!(here.login("frank", &password).status, 303);
    assert_eq!(elsewhere.login("frank", &password).status, 303);
    assert_eq!(elsewhere.get("/zones").status, 200);

    let csrf = here.get("/account").csrf();
    let form = [
        ("current", password.as_str()),
        ("password", "frank-password-2"),
        ("confirm", "frank-password-2"),
        ("csrf", &csrf),
    ];
    assert_eq!(here.post("/account/password", &form).status, 303);
    assert_eq!(here.get("/zones").status, 200, "the session that changed it goes on");
    assert_eq!(elsewhere.get("/zones").status, 303, "every other session ends");

    // Through the API as well: the console session ends.
    let token = s.user_token("frank", &[], &[]);
    let id = me(&s, &token);
    let change = json!({"password": "frank-password-3", "current_password": "frank-password-2"});
    assert_eq!(s.send("PATCH", &format!("/api/v1/users/{id}"), &token, change).status, 200);
    assert_eq!(here.get("/zones").status, 303);
}

#[test]
fn sign_in_redirects_stay_on_the_site_and_pages_carry_security_headers() {
    let s = Server::start();
    for next in ["/\\evil.example/x", "//evil.example/x", "https://evil.example/", "/\tevil", "/zones"] {
        let mut b = Browser::new(&s);
        let csrf = b.get("/login").csrf();
        let page = b.post(
            "/login",
            &[("username", "admin"), ("password", crate::support::ADMIN_PASSWORD), ("csrf", &csrf), ("next", next)],
        );
        let expected = if next == "/zones" { "/zones" } else { "/" };
        assert_eq!(page.location.as_deref(), Some(expected), "next={next:?}");
    }
    let page = ureq::get(&format!("{}/login", s.base)).call().unwrap();
    assert!(page.header("content-security-policy").is_some_and(|v| v.contains("frame-ancestors 'none'")));
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    let api = s.get("/api/v1/me", &s.admin_token);
    assert_eq!(api.header("x-content-type-options"), Some("nosniff"));
}

#[test]
fn parallel_wrong_sign_ins_are_counted_before_they_are_checked() {
    let s = Server::start();
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..40)
            .map(|_| {
                scope.spawn(|| {
                    let mut b = Browser::new(&s);
                    b.login("admin", "not the password").status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert!(checked <= 10, "{checked} wrong passwords were checked in parallel: {statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 40 - checked, "{statuses:?}");
}

/// Peak resident memory of a process, in MiB.
fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap();
    kib / 1024
}

/// 150 parallel requests with a real token id and wrong secrets, then 300 parallel sign-ins:
/// argon2 runs on a few threads, so the server's peak memory stays small (2.5 GiB and 3 s
/// health checks before the guard).
#[test]
fn floods_of_bad_secrets_and_sign_ins_keep_memory_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("flood.redb");
    let token = offline_token(&data);
    let served = Served::start(&data, &token);
    assert_eq!(served.call("GET", "/api/v1/me", None).0, 200, "a client in use before the flood");
    let forged = format!("{}{}", &token[..token.len() - 5], "zzzzz");
    let status = |path: &str, bearer: Option<&str>| {
        let mut req = ureq::get(&format!("{}{path}", served.base));
        if let Some(b) = bearer {
            req = req.set("Authorization", &format!("Bearer {b}"));
        }
        match req.call() {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r.status(),
            Err(_) => 0,
        }
    };
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..150).map(|_| scope.spawn(|| status("/api/v1/me", Some(&forged)))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(statuses.iter().all(|s| [401, 429].contains(s)), "{statuses:?}");
    let (ok, out) = run(nsbox(&data).args(["user", "add", "x"]));
    assert!(!ok && out.contains("already in use"), "the server holds the file: {out}");
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let base = &served.base;
        let handles: Vec<_> = (0..300)
            .map(|i| scope.spawn(move || sign_in(base, &format!("user{}", i % 7), "guess-guess-1", None)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(statuses.iter().all(|s| [401, 429].contains(s)), "{statuses:?}");
    assert_eq!(status("/healthz", None), 200);
    assert_eq!(served.call("GET", "/api/v1/me", None).0, 200, "the real token still works");
    let peak = peak_rss_mib(served.child.id());
    assert!(peak < 200, "peak RSS {peak} MiB under the floods");
}

/// One console sign-in as a browser makes it: the form (for its CSRF cookie), then the post,
/// through a proxy that names `forwarded` as the client when given.
fn sign_in(base: &str, username: &str, password: &str, forwarded: Option<&str>) -> u16 {
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let Ok(form) = agent.get(&format!("{base}/login")).call() else { return 0 };
    let cookie = form.header("set-cookie").and_then(|c| c.split(';').next()).unwrap_or_default().to_string();
    let body = form.into_string().unwrap_or_default();
    let csrf = body.split("name=\"csrf\" value=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default();
    let fields = [("username", username), ("password", password), ("csrf", csrf), ("next", "/")];
    let mut post = agent.post(&format!("{base}/login")).set("Cookie", &cookie);
    if let Some(client) = forwarded {
        post = post.set("X-Forwarded-For", client);
    }
    match post.send_form(&fields) {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r.status(),
        Err(_) => 0,
    }
}

/// A captured signed UPDATE sent again is refused, not applied twice; a key named with
/// another algorithm is an unknown key (BADKEY), not a bad signature.
#[test]
fn signed_updates_cannot_be_replayed_and_a_wrong_algorithm_is_badkey() {
    let s = Server::start();
    let t = s.user_token("replay", &[], &[]);
    s.zone(&t, "example.com");
    let r = s.post("/api/v1/tsig-keys", &s.admin_token, json!({"name": "rp.example.com", "algorithm": "hmac-sha256"}));
    let secret = r.body["secret"].as_str().unwrap();
    let script = r#"
import sys, socket, dns.update, dns.query, dns.tsigkeyring, dns.tsig
port, secret = int(sys.argv[1]), sys.argv[2]
def update(algorithm, build):
    keyring = dns.tsigkeyring.from_text({"rp.example.com.": (algorithm, secret)})
    u = dns.update.UpdateMessage("example.com", keyring=keyring, keyalgorithm=algorithm)
    build(u)
    return u
def raw(wire):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(wire, ("127.0.0.1", port))
    return s.recv(65535)[3] & 0x0F
add = update(dns.tsig.HMAC_SHA256, lambda u: u.add("once", 300, "TXT", "once")).to_wire()
print(raw(add))
print(raw(update(dns.tsig.HMAC_SHA256, lambda u: u.delete("once")).to_wire()))
print(raw(add))
try:
    dns.query.udp(update(dns.tsig.HMAC_SHA512, lambda u: u.add("x", 300, "A", "192.0.2.1")), "127.0.0.1", port=port, timeout=5)
    print("accepted")
except dns.tsig.PeerBadKey:
    print("BADKEY")
except Exception as e:
    print(type(e).__name__)
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
    assert_eq!(text.lines().collect::<Vec<_>>(), ["0", "0", "9", "BADKEY"], "NOERROR, NOERROR, NOTAUTH, BADKEY");
    assert_eq!(crate::dig::dig(s.dns, &["once.example.com", "TXT"]).status, "NXDOMAIN", "the replay changed nothing");
}

/// A user's zone sends NOTIFY only to networks the operator allows; an admin's anywhere.
#[test]
fn users_point_notify_only_at_allowed_networks() {
    let config = nsbox::config::ServeConfig {
        allow_notify_to: vec!["192.0.2.0/24".parse().unwrap()],
        ..nsbox::config::ServeConfig::default()
    };
    let s = Server::start_with(config);
    let t = s.user_token("notifier", &[], &[]);
    let z = s.zone(&t, "notify.example");
    let settings = |target: &str| json!({"notify": [target]});
    let path = format!("/api/v1/dns-zones/{z}");
    let refused = s.send("PATCH", &path, &t, settings("203.0.113.9:9999"));
    refused.error(400, "validation_error");
    assert_eq!(refused.body["field"], "notify");
    assert_eq!(s.send("PATCH", &path, &t, settings("192.0.2.53:53")).status, 200);
}

/// Quotas hold whichever way records come in: one at a time, bulk, or a zone file.
#[test]
fn record_and_zone_quotas_cover_every_way_in() {
    let config = nsbox::config::ServeConfig {
        max_zones_per_user: 2,
        max_records_per_user: 5,
        ..nsbox::config::ServeConfig::default()
    };
    let s = Server::start_with(config);
    let t = s.user_token("quota", &[], &[]);
    let z = s.zone(&t, "q1.example");
    s.zone(&t, "q2.example");
    s.post("/api/v1/dns-zones/", &t, json!({"domain": "q3.example"})).error(403, "forbidden");
    for i in 0..4 {
        let r = s.post(
            &format!("/api/v1/domains/{z}/dns"),
            &t,
            json!({"type": "A", "name": format!("h{i}"), "content": "192.0.2.1"}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let bulk = json!({"records": [{"type": "A", "name": "b1", "content": "192.0.2.1"}, {"type": "A", "name": "b2", "content": "192.0.2.1"}]});
    let r = s.post(&format!("/api/v1/domains/{z}/dns/bulk"), &t, bulk);
    assert!(r.status == 403 || r.text.contains("quota"), "bulk past the quota: {}", r.text);
    let file = "f1 300 IN A 192.0.2.1\nf2 300 IN A 192.0.2.2\n";
    let r =
        s.request_as("POST", &format!("/api/v1/dns-zones/{z}/import"), Some(&t), Some(("text/dns", file.as_bytes())));
    assert_eq!(r.status, 403, "a zone file past the quota: {}", r.text);
    assert_eq!(s.get(&format!("/api/v1/domains/{z}/dns"), &t).body["total"], 4, "nothing written past the quota");
    let one =
        s.post(&format!("/api/v1/domains/{z}/dns"), &t, json!({"type": "A", "name": "last", "content": "192.0.2.1"}));
    assert_eq!(one.status, 201, "the fifth fits: {}", one.text);
    let over =
        s.post(&format!("/api/v1/domains/{z}/dns"), &t, json!({"type": "A", "name": "over", "content": "192.0.2.1"}));
    over.error(403, "forbidden");
}

/// Behind a trusted proxy, sign-in limits count the address the proxy names, so one noisy
/// client does not lock out the others; from anywhere else the header is not believed.
#[test]
fn sign_in_limits_count_the_client_a_trusted_proxy_names() {
    let config = nsbox::config::ServeConfig {
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..nsbox::config::ServeConfig::default()
    };
    let s = Server::start_with(config);
    let attempt = |forwarded: &str, username: &str| sign_in(&s.base, username, "wrong-password", Some(forwarded));
    // Unknown users, one each, so only the per-address limit (20) applies.
    for n in 0..20 {
        assert_eq!(attempt("198.51.100.1", &format!("nobody{n}")), 401);
    }
    assert_eq!(attempt("198.51.100.1", "nobody-more"), 429, "the noisy client is held back");
    assert_eq!(attempt("198.51.100.2", "someone"), 401, "another client behind the proxy is not");
    assert_eq!(attempt("203.0.113.7, 198.51.100.1", "x"), 429, "the nearest untrusted hop counts");
}
