//! DynDNS2: the answers dyndns.org documents, and ddclient itself updating an address.

use std::process::Command;

use base64::Engine;

use crate::dig::dig;
use crate::support::Server;

fn update(s: &Server, auth: Option<(&str, &str)>, query: &str) -> (u16, String) {
    let mut req = ureq::get(&format!("{}/nic/update?{query}", s.base));
    if let Some((user, password)) = auth {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        req = req.set("Authorization", &format!("Basic {basic}"));
    }
    match req.call() {
        Ok(r) | Err(ureq::Error::Status(_, r)) => (r.status(), r.into_string().unwrap_or_default()),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn dyndns2_answers_as_dyndns_org_documents() {
    let s = Server::start();
    let token = s.user_token("home", &[], &[]);
    s.zone(&token, "dyn.example");
    let auth = Some(("home", token.as_str()));
    assert_eq!(update(&s, None, "hostname=a.dyn.example").1, "badauth\n");
    assert_eq!(update(&s, Some(("someone", &token)), "hostname=a.dyn.example").1, "badauth\n", "the user must match");
    assert_eq!(update(&s, auth, "hostname=a.dyn.example&myip=192.0.2.7").1, "good 192.0.2.7\n");
    assert_eq!(dig(s.dns, &["a.dyn.example", "A"]).data("A"), ["192.0.2.7"]);
    assert_eq!(update(&s, auth, "hostname=a.dyn.example&myip=192.0.2.7").1, "nochg 192.0.2.7\n");
    // Several names at once, IPv6 beside, myip from the client's address.
    let (status, text) = update(&s, auth, "hostname=a.dyn.example,b.dyn.example&myipv6=2001:db8::7");
    assert_eq!((status, text.as_str()), (200, "good 127.0.0.1,2001:db8::7\ngood 127.0.0.1,2001:db8::7\n"));
    assert_eq!(dig(s.dns, &["b.dyn.example", "AAAA"]).data("AAAA"), ["2001:db8::7"]);
    assert_eq!(update(&s, auth, "hostname=nowhere.example&myip=192.0.2.1").1, "nohost\n");
    assert_eq!(update(&s, auth, "hostname=localhost&myip=192.0.2.1").1, "notfqdn\n");
    // The other dialects see the change.
    let zones = s.get("/api/v1/dns-zones/", &token).body;
    let uuid = zones[0]["uuid"].as_str().unwrap();
    let records = s.get(&format!("/api/v1/domains/{uuid}/dns"), &token).body;
    assert!(
        records["records"].as_array().unwrap().iter().any(|r| r["name"] == "b" && r["type"] == "AAAA"),
        "{records}"
    );
}

#[test]
fn ddclient_updates_an_address_and_then_reports_no_change() {
    let s = Server::start();
    let token = s.user_token("router", &[], &[]);
    s.zone(&token, "home.example");
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("ddclient.conf");
    let server = s.base.trim_start_matches("http://");
    std::fs::write(
        &conf,
        format!(
            "daemon=0\nsyslog=no\nssl=no\nuse=ip, ip=198.51.100.23\nprotocol=dyndns2\nserver={server}\nscript=/nic/update\nlogin=router\npassword='{token}'\nhouse.home.example\n"
        ),
    )
    .unwrap();
    std::os::unix::fs::PermissionsExt::set_mode(&mut std::fs::metadata(&conf).unwrap().permissions(), 0o600);
    let run = |force: bool| {
        let mut cmd = Command::new("ddclient");
        cmd.arg("-file").arg(&conf).arg("-cache").arg(dir.path().join("cache")).args([
            "-daemon=0",
            "-foreground",
            "-verbose",
            "-noquiet",
        ]);
        if force {
            cmd.arg("-force");
        }
        let out = cmd.output().expect("ddclient (Debian's package; .ci/run installs it)");
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    };
    let first = run(false);
    assert!(first.contains("good"), "{first}");
    assert_eq!(dig(s.dns, &["house.home.example", "A"]).data("A"), ["198.51.100.23"]);
    let second = run(true);
    assert!(second.contains("nochg"), "{second}");
}

/// The console's Integrations page gives each tool's settings with this server's addresses.
#[test]
fn the_integrations_page_has_each_tools_settings() {
    let s = Server::start();
    let mut browser = crate::web::Browser::new(&s);
    browser.login("admin", crate::support::ADMIN_PASSWORD);
    let page = browser.get("/integrations").body;
    let host = s.base.trim_start_matches("http://");
    for expected in [
        "--provider=pdns",
        "--pdns-server=http://",
        "PDNS_API_URL",
        "octodns_powerdns.PowerDnsProvider",
        "server_url",
        "dns powerdns",
        "protocol=dyndns2",
        "script=/nic/update",
        "dns_rfc2136_server",
        host,
    ] {
        assert!(page.contains(expected), "{expected} missing from the Integrations page");
    }
}

/// A dynamic-DNS token changes its own names and nothing else, whichever API it uses.
#[test]
fn a_token_limited_to_names_changes_only_those() {
    let s = Server::start();
    let full = s.user_token("dyn", &[], &[]);
    let zone = s.zone(&full, "names.example");
    let created =
        s.post("/api/v1/tokens", &full, serde_json::json!({"name": "router", "names": ["home.names.example"]}));
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["names"][0], "home.names.example");
    let router = created.body["token"].as_str().unwrap().to_string();
    let auth = Some(("dyn", router.as_str()));
    assert_eq!(update(&s, auth, "hostname=home.names.example&myip=192.0.2.44").1, "good 192.0.2.44\n");
    assert_eq!(update(&s, auth, "hostname=office.names.example&myip=192.0.2.45").1, "nohost\n");
    let elsewhere = serde_json::json!({"type": "A", "name": "office", "content": "192.0.2.45"});
    s.post(&format!("/api/v1/domains/{zone}/dns"), &router, elsewhere).error(403, "forbidden");
    s.delete(&format!("/api/v1/dns-zones/{zone}/"), &router).error(403, "forbidden");
    assert_eq!(dig(s.dns, &["office.names.example", "A"]).status, "NXDOMAIN");
}
