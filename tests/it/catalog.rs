//! Catalog zones (RFC 9432): a BIND and a Knot secondary, each configured with nothing but
//! nsbox's catalog, serve every zone created through the API, follow its changes, and drop
//! it once it is deleted.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::dig::dig;
use crate::support::Server;
use crate::transfer::{free_port, loopback, named_conf, secondary, wait_for};

const CATALOG: &str = "catalog.nsbox.invalid";

fn bind_config(dir: &Path, port: u16, primary: SocketAddr) -> String {
    let (ip, primary_port) = (primary.ip(), primary.port());
    let options = format!(
        r#"    allow-new-zones yes;
    min-refresh-time 1; max-refresh-time 2; min-retry-time 1; max-retry-time 2;
    catalog-zones {{
        zone "{CATALOG}" default-primaries {{ {ip} port {primary_port}; }} in-memory yes min-update-interval 1;
    }};
"#
    );
    let zone = format!(
        r#"zone "{CATALOG}" {{
    type secondary;
    primaries {{ {ip} port {primary_port}; }};
    file "{dir}/catalog.db";
}};
"#,
        dir = dir.display(),
    );
    named_conf(dir, port, &options, &zone)
}

fn knot_config(dir: &Path, port: u16, primary: SocketAddr) -> String {
    // Every zone comes from nsbox, asked for again every 2 s besides NOTIFY.
    let from_nsbox = "    master: nsbox\n    acl: from_nsbox\n    zonefile-sync: -1\n    refresh-min-interval: 2\n    \
                      refresh-max-interval: 2\n    retry-min-interval: 2\n    retry-max-interval: 2";
    format!(
        r#"server:
  listen: 127.0.0.1@{port}
  rundir: {d}
database:
  storage: {d}
log:
  - target: stderr
    any: error
remote:
  - id: nsbox
    address: {ip}@{primary_port}
acl:
  - id: from_nsbox
    address: {ip}
    action: notify
template:
  - id: default
    storage: {d}
  - id: member
{from_nsbox}
  - id: anycast
{from_nsbox}
zone:
  - domain: {CATALOG}
{from_nsbox}
    catalog-role: interpret
    catalog-template: [ member, anycast ]
"#,
        d = dir.display(),
        ip = primary.ip(),
        primary_port = primary.port(),
    )
}

/// The A data a secondary serves for `name` with authority, or nothing.
fn served(server: SocketAddr, name: &str) -> Vec<String> {
    let answer = dig(server, &[name, "A"]);
    if answer.aa() { answer.data("A") } else { Vec::new() }
}

#[test]
fn bind_and_knot_secondaries_follow_the_catalog() {
    let (bind_port, knot_port) = (free_port(), free_port());
    let (bind_addr, knot_addr) = (loopback(bind_port), loopback(knot_port));
    let config = nsbox::config::ServeConfig {
        catalog_zone: Some(CATALOG.into()),
        allow_transfer: vec!["127.0.0.0/8".parse().unwrap()],
        notify: vec![bind_addr, knot_addr],
        ..nsbox::config::ServeConfig::default()
    };
    let s = Server::start_with(config);
    let t = s.user_token("cat", &[], &[]);
    let first = s.zone(&t, "first.example");
    s.post(&format!("/api/v1/domains/{first}/dns"), &t, json!({"type": "A", "name": "www", "content": "192.0.2.1"}));

    // The catalog as nsbox serves it is a valid zone.
    let dir = tempfile::tempdir().unwrap();
    let axfr = Command::new("dig")
        .args([&format!("@{}", s.dns.ip()), "-p", &s.dns.port().to_string(), CATALOG, "AXFR", "+nocmd", "+nostats"])
        .output()
        .expect("dig");
    let file = dir.path().join("catalog.zone");
    std::fs::write(&file, &axfr.stdout).unwrap();
    let check = Command::new("named-checkzone").arg(CATALOG).arg(&file).output().expect("named-checkzone");
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    let text = String::from_utf8_lossy(&axfr.stdout);
    assert!(text.contains(&format!("{first}.zones.{CATALOG}.")), "members are named by their zone's id:\n{text}");
    assert!(text.contains("\"2\""), "version 2:\n{text}");

    let (_named, bind_addr, _bind_dir) =
        secondary("named", &["-g", "-n", "1", "-c"], bind_port, s.dns, bind_config, CATALOG);
    let (_knot, knot_addr, _knot_dir) = secondary("knotd", &["-c"], knot_port, s.dns, knot_config, CATALOG);
    let secondaries = [("BIND", bind_addr), ("Knot", knot_addr)];
    for (who, addr) in secondaries {
        wait_for(&format!("{who} to serve the first zone"), || served(addr, "www.first.example") == ["192.0.2.1"]);
    }

    // A zone created now reaches both by the catalog's NOTIFY and transfer alone.
    let second = s.zone(&t, "second.example");
    s.post(&format!("/api/v1/domains/{second}/dns"), &t, json!({"type": "A", "name": "www", "content": "192.0.2.2"}));
    let grouped = s.send("PATCH", &format!("/api/v1/dns-zones/{second}/"), &t, json!({"catalog_group": "anycast"}));
    assert_eq!(grouped.status, 200, "{}", grouped.text);
    assert_eq!(grouped.body["catalog_group"], "anycast");
    let group = dig(s.dns, &[&format!("group.{second}.zones.{CATALOG}"), "TXT"]);
    assert_eq!(group.data("TXT"), ["\"anycast\""]);
    for (who, addr) in secondaries {
        wait_for(&format!("{who} to serve the new zone"), || served(addr, "www.second.example") == ["192.0.2.2"]);
    }
    // Record changes follow.
    s.post(&format!("/api/v1/domains/{second}/dns"), &t, json!({"type": "A", "name": "new", "content": "192.0.2.3"}));
    for (who, addr) in secondaries {
        wait_for(&format!("{who} to follow a change"), || served(addr, "new.second.example") == ["192.0.2.3"]);
    }
    // The catalog's changes go by IXFR: the journal holds them.
    let ixfr = dig(s.dns, &["+tcp", CATALOG, "IXFR=1"]);
    assert!(ixfr.answer.iter().any(|r| r.2 == "PTR"), "{}", ixfr.raw);

    // A deleted zone is dropped.
    let deleted = s.send("DELETE", &format!("/api/v1/dns-zones/{first}/"), &t, json!(null));
    assert!(deleted.status < 300, "{}", deleted.text);
    for (who, addr) in secondaries {
        wait_for(&format!("{who} to drop the deleted zone"), || served(addr, "www.first.example").is_empty());
    }
    assert_eq!(served(bind_addr, "www.second.example"), ["192.0.2.2"]);
    assert_eq!(served(knot_addr, "www.second.example"), ["192.0.2.2"]);
}

#[test]
fn no_zone_may_take_the_catalog_name() {
    let config =
        nsbox::config::ServeConfig { catalog_zone: Some(CATALOG.into()), ..nsbox::config::ServeConfig::default() };
    let s = Server::start_with(config);
    let r = s.post("/api/v1/dns-zones/", &s.admin_token, json!({"domain": CATALOG}));
    assert_eq!(r.status, 400, "{}", r.text);
    let r = s.post("/api/v1/dns-zones/", &s.admin_token, json!({"domain": format!("x.zones.{CATALOG}")}));
    assert_eq!(r.status, 400, "{}", r.text);
    let bad = s.zone(&s.admin_token, "grouped.example");
    let r =
        s.send("PATCH", &format!("/api/v1/dns-zones/{bad}/"), &s.admin_token, json!({"catalog_group": "no spaces"}));
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error_code"], "validation_error", "{}", r.text);
}
