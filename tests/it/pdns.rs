//! The PowerDNS dialect: its API shapes as PowerDNS documents them, the requests other tools
//! build replayed as their source builds them, and octoDNS with `octodns-powerdns` itself.

use std::process::Command;

use serde_json::{Value, json};

use crate::dig::dig;
use crate::support::Server;

/// A PowerDNS-style call: the token in `X-API-Key`.
fn call(s: &Server, method: &str, path: &str, key: &str, body: Option<Value>) -> (u16, Value, String) {
    let req = ureq::request(method, &format!("{}{path}", s.base)).set("X-API-Key", key);
    let res = match body {
        Some(b) => req.send_json(b),
        None => req.call(),
    };
    match res {
        Ok(r) | Err(ureq::Error::Status(_, r)) => {
            let status = r.status();
            let text = r.into_string().unwrap_or_default();
            (status, serde_json::from_str(&text).unwrap_or(Value::Null), text)
        }
        Err(e) => panic!("{method} {path}: {e}"),
    }
}

fn rrset<'a>(zone: &'a Value, name: &str, rtype: &str) -> Option<&'a Value> {
    zone["rrsets"].as_array()?.iter().find(|r| r["name"] == name && r["type"] == rtype)
}

const ZONES: &str = "/api/v1/servers/localhost/zones";

#[test]
fn powerdns_api_shapes_and_rrset_changes() {
    let s = Server::start();
    let key = s.user_token("pdns", &[], &[]);
    assert_eq!(call(&s, "GET", "/api", &key, None).1[0]["url"], "/api/v1");
    let (status, servers, _) = call(&s, "GET", "/api/v1/servers", &key, None);
    assert_eq!((status, &servers[0]["id"]), (200, &json!("localhost")));
    let (status, body, _) = call(&s, "GET", "/api/v1/servers", "vps_wrongwrongwr_x", None);
    assert_eq!((status, body["error"].is_string()), (401, true), "errors are {{\"error\": …}}");

    let new = json!({"name": "pdns.example.", "kind": "Native", "nameservers": ["ns1.pdns.example.", "ns2.pdns.example."],
        "rrsets": [{"name": "www.pdns.example.", "type": "A", "ttl": 300, "changetype": "REPLACE",
                    "records": [{"content": "192.0.2.1", "disabled": false}]}]});
    let (status, zone, text) = call(&s, "POST", ZONES, &key, Some(new.clone()));
    assert_eq!(status, 201, "{text}");
    assert_eq!((zone["id"].as_str(), zone["kind"].as_str()), (Some("pdns.example."), Some("Native")));
    assert!(rrset(&zone, "pdns.example.", "SOA").is_some() && rrset(&zone, "pdns.example.", "NS").is_some(), "{text}");
    assert_eq!(call(&s, "POST", ZONES, &key, Some(new)).0, 409, "a zone exists once");
    assert_eq!(dig(s.dns, &["www.pdns.example", "A"]).data("A"), ["192.0.2.1"]);

    // REPLACE keeps the id of a record whose data did not change.
    let pocket =
        |s: &Server| s.get(&format!("/api/v1/domains/{}/dns", zone_uuid(s, &key)), &key).body["records"].clone();
    let id_of = |records: &Value, content: &str| {
        records.as_array().unwrap().iter().find(|r| r["content"] == content).map(|r| r["id"].clone())
    };
    let before = id_of(&pocket(&s), "192.0.2.1").unwrap();
    let patch =
        |changes: Value| call(&s, "PATCH", &format!("{ZONES}/pdns.example."), &key, Some(json!({"rrsets": changes})));
    let (status, _, text) =
        patch(json!([{"name": "www.pdns.example.", "type": "A", "ttl": 300, "changetype": "REPLACE",
        "records": [{"content": "192.0.2.1", "disabled": false}, {"content": "192.0.2.2", "disabled": false}]}]));
    assert_eq!(status, 204, "{text}");
    assert_eq!(id_of(&pocket(&s), "192.0.2.1"), Some(before), "the unchanged record keeps its id");
    assert_eq!(dig(s.dns, &["www.pdns.example", "A"]).data("A"), ["192.0.2.1", "192.0.2.2"]);
    assert_eq!(patch(json!([{"name": "www.pdns.example.", "type": "A", "changetype": "PRUNE", "records": [{"content": "192.0.2.1"}]}])).0, 204);
    assert_eq!(patch(json!([{"name": "www.pdns.example.", "type": "A", "ttl": 300, "changetype": "EXTEND", "records": [{"content": "192.0.2.3"}]}])).0, 204);
    assert_eq!(dig(s.dns, &["www.pdns.example", "A"]).data("A"), ["192.0.2.2", "192.0.2.3"]);
    assert_eq!(patch(json!([{"name": "www.pdns.example.", "type": "A", "changetype": "DELETE"}])).0, 204);
    assert_eq!(dig(s.dns, &["www.pdns.example", "A"]).status, "NXDOMAIN");

    // All or nothing: one invalid RRset refuses the whole PATCH with 422.
    let (status, body, _) = patch(json!([
        {"name": "ok.pdns.example.", "type": "A", "ttl": 300, "changetype": "REPLACE", "records": [{"content": "192.0.2.9"}]},
        {"name": "bad.pdns.example.", "type": "A", "ttl": 300, "changetype": "REPLACE", "records": [{"content": "999.0.0.1"}]}]));
    assert_eq!((status, body["error"].is_string()), (422, true));
    assert_eq!(dig(s.dns, &["ok.pdns.example", "A"]).status, "NXDOMAIN", "nothing of a refused PATCH is written");

    let other = s.user_token("someone-else", &[], &[]);
    assert_eq!(
        call(&s, "GET", &format!("{ZONES}/pdns.example."), &other, None).0,
        404,
        "another user's zone does not exist"
    );
    assert_eq!(call(&s, "GET", &format!("{ZONES}?zone=pdns.example."), &key, None).1.as_array().map(Vec::len), Some(1));
    let (status, _, export) = call(&s, "GET", &format!("{ZONES}/pdns.example./export"), &key, None);
    assert!(status == 200 && export.contains("ns2.pdns.example."), "{export}");
    assert_eq!(call(&s, "PUT", &format!("{ZONES}/pdns.example./notify"), &key, None).0, 200);
    assert_eq!(call(&s, "PUT", &format!("{ZONES}/pdns.example./rectify"), &key, None).0, 200);
    let (_, found, _) = call(&s, "GET", "/api/v1/servers/localhost/search-data?q=ns2*", &key, None);
    assert!(found.as_array().is_some_and(|f| f.iter().any(|r| r["type"] == "NS")), "{found}");
    assert_eq!(call(&s, "DELETE", &format!("{ZONES}/pdns.example."), &key, None).0, 204);
    assert_eq!(dig(s.dns, &["pdns.example", "SOA"]).status, "REFUSED");
}

fn zone_uuid(s: &Server, key: &str) -> String {
    let zones = s.get("/api/v1/dns-zones/", key).body;
    zones.as_array().and_then(|z| z.first()).and_then(|z| z["uuid"].as_str()).unwrap_or_default().to_string()
}

/// The requests external-dns, cert-manager's webhook and Terraform's provider send, as their
/// source builds them, and what each sees on the wire and in the other dialects.
#[test]
fn requests_of_external_dns_cert_manager_and_terraform() {
    let s = Server::start();
    let key = s.user_token("tools", &[], &[]);
    // Terraform (pan-net/powerdns): create the zone, then one PATCH per resource.
    let (status, _, text) = call(
        &s,
        "POST",
        ZONES,
        &key,
        Some(
            json!({"name": "tools.example.", "kind": "Native", "nameservers": [], "masters": [], "soa_edit_api": "DEFAULT"}),
        ),
    );
    assert_eq!(status, 201, "{text}");
    // external-dns (provider/pdns): REPLACE of the record and its TXT ownership record.
    let external_dns = json!({"rrsets": [
        {"name": "app.tools.example.", "type": "A", "ttl": 300, "changetype": "REPLACE", "records": [{"content": "192.0.2.10", "disabled": false, "set-ptr": false}], "comments": []},
        {"name": "a-app.tools.example.", "type": "TXT", "ttl": 300, "changetype": "REPLACE", "records": [{"content": "\"heritage=external-dns,external-dns/owner=default,external-dns/resource=service/default/app\"", "disabled": false, "set-ptr": false}], "comments": []}]});
    let (status, _, text) = call(&s, "PATCH", &format!("{ZONES}/tools.example."), &key, Some(external_dns));
    assert_eq!(status, 204, "{text}");
    assert_eq!(dig(s.dns, &["app.tools.example", "A"]).data("A"), ["192.0.2.10"]);
    assert!(dig(s.dns, &["a-app.tools.example", "TXT"]).data("TXT")[0].contains("heritage=external-dns"));
    // cert-manager's PowerDNS webhook: the challenge TXT, then its removal.
    let challenge = |changetype: &str| json!({"rrsets": [{"name": "_acme-challenge.tools.example.", "type": "TXT", "ttl": 120, "changetype": changetype, "records": [{"content": "\"LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoM\"", "disabled": false}]}]});
    assert_eq!(call(&s, "PATCH", &format!("{ZONES}/tools.example."), &key, Some(challenge("REPLACE"))).0, 204);
    assert_eq!(
        dig(s.dns, &["_acme-challenge.tools.example", "TXT"]).data("TXT"),
        ["\"LHDhK3oGRvkiefQnx7OOczTY5Tic_xZ6HcMOc_gmtoM\""]
    );
    // The other dialects see the same records.
    let listed = s.get(&format!("/api/v1/domains/{}/dns", zone_uuid(&s, &key)), &key).body;
    assert!(
        listed["records"].as_array().unwrap().iter().any(|r| r["name"] == "_acme-challenge" && r["type"] == "TXT"),
        "{listed}"
    );
    assert_eq!(call(&s, "PATCH", &format!("{ZONES}/tools.example."), &key, Some(challenge("DELETE"))).0, 204);
    assert_eq!(dig(s.dns, &["_acme-challenge.tools.example", "TXT"]).status, "NXDOMAIN");
    // Terraform reads the zone back and finally deletes it.
    let (_, zone, _) = call(&s, "GET", &format!("{ZONES}/tools.example."), &key, None);
    assert_eq!(rrset(&zone, "app.tools.example.", "A").unwrap()["records"][0]["content"], "192.0.2.10");
    assert_eq!(call(&s, "DELETE", &format!("{ZONES}/tools.example."), &key, None).0, 204);
}

/// octoDNS with octodns-powerdns plans and applies a YAML zone; a second plan has no changes.
#[test]
fn octodns_syncs_a_zone_and_then_sees_no_changes() {
    let s = Server::start();
    let key = s.user_token("octo", &[], &[]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("zones")).unwrap();
    std::fs::write(
        dir.path().join("zones/octo.example.yaml"),
        "---\n'':\n  - type: A\n    value: 192.0.2.1\n  - type: MX\n    value:\n      exchange: mail.octo.example.\n      preference: 10\n  - type: TXT\n    value: v=spf1 -all\n_sip._tcp:\n  type: SRV\n  value:\n    port: 5060\n    priority: 10\n    target: sip.octo.example.\n    weight: 60\ncaa:\n  type: CAA\n  value:\n    flags: 0\n    tag: issue\n    value: letsencrypt.org\nmail:\n  type: A\n  values: [192.0.2.25, 192.0.2.26]\nwww:\n  type: CNAME\n  value: octo.example.\n",
    )
    .unwrap();
    let port = s.base.rsplit(':').next().unwrap();
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "providers:\n  config:\n    class: octodns.provider.yaml.YamlProvider\n    directory: {}/zones\n  pdns:\n    class: octodns_powerdns.PowerDnsProvider\n    host: 127.0.0.1\n    port: {port}\n    scheme: http\n    api_key: env/NSBOX_KEY\nzones:\n  octo.example.:\n    sources: [config]\n    targets: [pdns]\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let sync = |doit: bool| {
        let mut cmd = Command::new("octodns-sync");
        cmd.arg("--config-file").arg(&config).env("NSBOX_KEY", &key);
        if doit {
            cmd.arg("--doit");
        }
        let out = cmd.output().expect("octodns-sync (pip install octodns octodns-powerdns; .ci/run does)");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "{text}");
        text
    };
    sync(true);
    assert_eq!(dig(s.dns, &["mail.octo.example", "A"]).data("A"), ["192.0.2.25", "192.0.2.26"]);
    assert_eq!(dig(s.dns, &["octo.example", "MX"]).data("MX"), ["10 mail.octo.example."]);
    assert_eq!(dig(s.dns, &["_sip._tcp.octo.example", "SRV"]).data("SRV"), ["10 60 5060 sip.octo.example."]);
    let again = sync(false);
    assert!(again.contains("No changes were planned"), "{again}");
}

/// lexicon's PowerDNS provider (what certbot's DNS plugins build on) creates, lists and
/// deletes an ACME challenge record.
#[test]
fn lexicon_creates_and_removes_a_challenge() {
    let s = Server::start();
    let key = s.user_token("lexicon", &[], &[]);
    s.zone(&key, "lexicon-test.com");
    // Through lexicon's client API, as certbot's DNS plugins call it (its command line asks a
    // resolver of the Internet for the zone first).
    let script = r#"
import sys
from lexicon.client import Client
action, key, server = sys.argv[1:4]
config = {"provider_name": "powerdns", "action": action, "domain": "lexicon-test.com", "type": "TXT",
          "name": "_acme-challenge.lexicon-test.com.", "content": "challenge-token-1",
          "auth_token": key, "pdns_server": server, "pdns_server_id": "localhost"}
print(Client(config).execute())
"#;
    let lexicon = |action: &str| {
        let out = Command::new("python3")
            .args(["-c", script, action, &key, &s.base])
            .output()
            .expect("python3 with dns-lexicon (pip install dns-lexicon; .ci/run does)");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "lexicon {action}: {text}");
        text
    };
    lexicon("create");
    assert_eq!(dig(s.dns, &["_acme-challenge.lexicon-test.com", "TXT"]).data("TXT"), ["\"challenge-token-1\""]);
    assert!(lexicon("list").contains("challenge-token-1"));
    lexicon("delete");
    assert_eq!(dig(s.dns, &["_acme-challenge.lexicon-test.com", "TXT"]).status, "NXDOMAIN");
}
