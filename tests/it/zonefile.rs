//! BIND master files: export passes named-checkzone, import takes real zone files, and
//! import → export → named-checkzone → import gives the same records.

use std::process::Command;

use serde_json::{Value, json};

use crate::support::Server;

/// A small business: web, mail with SPF/DKIM/DMARC, SRV, CAA, multi-line SOA, escapes.
const BUSINESS: &str = r#"; exported from a registrar
$ORIGIN shop.example.
$TTL 1h
@   IN SOA ns1.registrar.net. hostmaster.shop.example. (
        2024010101 ; serial
        7200       ; refresh
        900        ; retry
        1209600    ; expire
        300 )      ; minimum
    IN  NS  ns1.registrar.net.
    IN  NS  ns2.registrar.net.
    IN  A   192.0.2.10
    IN  AAAA 2001:db8::10
    IN  MX  10 mail
    IN  MX  20 mail.backup.example.
    IN  TXT "v=spf1 mx include:_spf.google.com ~all"
    IN  CAA 0 issue "letsencrypt.org"
    IN  CAA 0 iodef "mailto:security@shop.example"
www     300 IN CNAME @
mail        IN A     192.0.2.25
selector1._domainkey IN TXT ( "v=DKIM1; k=rsa; "
    "p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAvRzS3sGwQkq0q1Y1zJ1b2Q0Xv4B7J5eWJ9qL5u9F8f3cJ5uH2R7kTQ5vC3Rz1m"
    "Yb6c8yE2eV1hX0wVq9nL4sK7dP3gF6tR2jH8mZ5aC1bN4xQ7wE0rT9yU2iO3pA6sD5fG8hJ1kL4zX7cV0bN3mQ6wE9rT2yU5iO8pA1sD4fG7hJ0kL" )
_dmarc      IN TXT   "v=DMARC1; p=quarantine; rua=mailto:dmarc@shop.example"
_sip._tcp   IN SRV   10 60 5060 sip
sip         IN A     192.0.2.50
quote       IN TXT   "say \"hello\" \\ there"
*.dev       IN A     192.0.2.99
old         IN LOC 95 0 0 N 0 0 0 E 0m
"#;

/// Delegations with glue.
const DELEGATIONS: &str = "$ORIGIN parent.example.\n$TTL 86400\n@ SOA ns hm 1 2 3 4 5\n@ NS ns1.parent.example.\nns1 A 192.0.2.1\nchild NS ns1.child\nchild NS ns2.child.parent.example.\nns1.child A 192.0.2.53\nns2.child AAAA 2001:db8::53\nother NS ns.elsewhere.net.\n";

fn checkzone(domain: &str, text: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("zone");
    std::fs::write(&file, text).unwrap();
    let out = Command::new("named-checkzone").arg(domain).arg(&file).output().expect("named-checkzone (bind9-utils)");
    assert!(out.status.success(), "named-checkzone: {}\n{}", String::from_utf8_lossy(&out.stdout), text);
}

fn import(s: &Server, t: &str, zone: &str, query: &str, text: &str) -> crate::support::Resp {
    s.request("POST", &format!("/api/v1/dns-zones/{zone}/import{query}"), Some(t), Some(text.as_bytes()))
}

fn export(s: &Server, t: &str, zone: &str) -> String {
    let r = s.request("GET", &format!("/api/v1/dns-zones/{zone}/export"), Some(t), None);
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.header("content-type").unwrap_or_default().starts_with("text/dns"));
    r.text
}

/// The records of a zone as comparable tuples.
fn records(s: &Server, t: &str, zone: &str) -> Vec<(String, String, String, u64, Option<u64>)> {
    let list = s.get(&format!("/api/v1/dns-zones/{zone}/records/"), t);
    let mut out: Vec<_> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r: &Value| {
            (
                r["name"].as_str().unwrap().into(),
                r["record_type"].as_str().unwrap().into(),
                r["value"].as_str().unwrap().into(),
                r["ttl"].as_u64().unwrap(),
                r["priority"].as_u64(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn business_zone_round_trips() {
    let s = Server::start();
    let t = s.user_token("zf", &[], &[]);
    let z = s.zone(&t, "shop.example");
    let r = import(&s, &t, &z, "", BUSINESS);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["applied"], true);
    assert_eq!(r.body["added"].as_array().unwrap().len(), 17, "{}", r.text);
    let refused = r.body["refused"].as_array().unwrap();
    assert_eq!((refused.len(), refused[0]["line"].as_u64()), (1, Some(29)), "{}", r.text);
    assert!(refused[0]["error"].as_str().unwrap().contains("invalid LOC data"), "{}", r.text);
    let www = records(&s, &t, &z).into_iter().find(|r| r.0 == "www").unwrap();
    assert_eq!(
        (www.1.as_str(), www.2.as_str(), www.3),
        ("CNAME", "shop.example", 300),
        "`@` as a target is the origin"
    );
    let quote = records(&s, &t, &z).into_iter().find(|r| r.0 == "quote").unwrap();
    assert_eq!(quote.2, "say \"hello\" \\ there");
    let dkim = crate::dig::dig(s.dns, &["selector1._domainkey.shop.example", "TXT"]);
    assert!(
        dkim.answer[0].3.starts_with("\"v=DKIM1; k=rsa; \" \"p=MIIB") && dkim.answer[0].3.contains("fG7hJ0kL"),
        "the three quoted strings kept as the file has them, as Knot serves them: {}",
        dkim.raw
    );

    let text = export(&s, &t, &z);
    assert!(
        text.contains("$ORIGIN shop.example.\n") && text.contains("\nwww\t300\tIN\tCNAME\tshop.example.\n"),
        "names relative to $ORIGIN:\n{text}"
    );
    checkzone("shop.example", &text);
    // Import the export into a fresh zone: the same records.
    let copy = {
        let other = s.user_token("zf2", &[], &[]);
        let z2 = s.zone(&other, "shop.example.copy");
        let renamed = text.replace("shop.example.", "shop.example.copy.");
        let again = import(&s, &other, &z2, "?mode=replace", &renamed);
        assert_eq!((again.status, again.body["refused"].as_array().map(Vec::len)), (200, Some(0)), "{}", again.text);
        records(&s, &other, &z2)
            .into_iter()
            .map(|mut r| {
                r.2 = r.2.replace("shop.example.copy", "shop.example");
                r
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(copy, records(&s, &t, &z));
    // Importing the same file again changes nothing.
    let same = import(&s, &t, &z, "", &text);
    assert_eq!(
        (same.body["added"].as_array().map(Vec::len), same.body["unchanged"].as_u64()),
        (Some(0), Some(17)),
        "{}",
        same.text
    );
}

#[test]
fn delegations_and_glue_round_trip() {
    let s = Server::start();
    let t = s.user_token("deleg", &[], &[]);
    let z = s.zone(&t, "parent.example");
    let r = import(&s, &t, &z, "?mode=replace", DELEGATIONS);
    assert_eq!((r.status, r.body["added"].as_array().map(Vec::len)), (200, Some(7)), "{}", r.text);
    let referral = crate::dig::dig(s.dns, &["www.child.parent.example", "A"]);
    assert_eq!((referral.aa(), referral.authority.len(), referral.additional.len()), (false, 2, 2), "{}", referral.raw);
    let text = export(&s, &t, &z);
    assert!(!text.contains("NS\tns1.nsbox.invalid"), "the zone's own apex NS replace the generated ones:\n{text}");
    checkzone("parent.example", &text);
}

#[test]
fn replace_is_all_or_nothing_and_dry_runs_write_nothing() {
    let s = Server::start();
    let t = s.user_token("atomic", &[], &[]);
    let z = s.zone(&t, "atomic.example");
    s.post(&format!("/api/v1/domains/{z}/dns"), &t, json!({"type": "A", "name": "keep", "content": "192.0.2.1"}));
    let before = records(&s, &t, &z);
    let text = "$ORIGIN atomic.example.\nnew A 192.0.2.2\nbad A 300.0.0.1\n";
    let failed = import(&s, &t, &z, "?mode=replace", text);
    assert_eq!((failed.status, failed.body["applied"].as_bool()), (400, Some(false)), "{}", failed.text);
    assert_eq!(failed.body["refused"][0]["line"], 3);
    assert_eq!(records(&s, &t, &z), before, "nothing written");
    let dry = import(&s, &t, &z, "?mode=replace&dry_run=true", "$ORIGIN atomic.example.\nnew 600 A 192.0.2.2\n");
    assert_eq!(
        (dry.status, dry.body["added"].as_array().map(Vec::len), dry.body["removed"].as_array().map(Vec::len)),
        (200, Some(1), Some(1))
    );
    assert_eq!(records(&s, &t, &z), before, "a dry run writes nothing");
    let merged = import(
        &s,
        &t,
        &z,
        "?mode=merge",
        "$ORIGIN atomic.example.\nnew A 192.0.2.2\nbad A 300.0.0.1\n$INCLUDE /etc/passwd\n",
    );
    assert_eq!(
        (merged.status, merged.body["added"].as_array().map(Vec::len), merged.body["refused"].as_array().map(Vec::len)),
        (200, Some(1), Some(2))
    );
    assert!(merged.text.contains("$INCLUDE is not supported"));
    import(&s, &t, &z, "?mode=sideways", "").error(400, "validation_error");
    let read_only = s.user_token("atomic", &["dns:read"], &[]);
    import(&s, &read_only, &z, "", text).error(403, "forbidden");
}

/// A merge keeps every record the zone has, so a line that cannot stand beside them is refused
/// on its own line, in a dry run and for real, and the rest of the file is applied.
#[test]
fn a_merge_refuses_lines_that_clash_with_existing_records() {
    let s = Server::start();
    let t = s.user_token("clash", &[], &[]);
    let z = s.zone(&t, "clash.example");
    for (name, rtype, content) in [("www", "A", "192.0.2.1"), ("alias", "CNAME", "www")] {
        let r =
            s.post(&format!("/api/v1/domains/{z}/dns"), &t, json!({"type": rtype, "name": name, "content": content}));
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let text = "$ORIGIN clash.example.\nwww CNAME elsewhere.example.\nalias A 192.0.2.9\nfresh A 192.0.2.3\n";
    for query in ["?mode=merge&dry_run=true", "?mode=merge"] {
        let r = import(&s, &t, &z, query, text);
        assert_eq!(r.status, 200, "{}", r.text);
        let lines: Vec<u64> =
            r.body["refused"].as_array().unwrap().iter().map(|l| l["line"].as_u64().unwrap()).collect();
        assert_eq!(lines, [2, 3], "{}", r.text);
        assert_eq!(r.body["added"].as_array().map(Vec::len), Some(1), "{}", r.text);
    }
    let names: Vec<String> = records(&s, &t, &z).into_iter().map(|r| format!("{} {}", r.0, r.1)).collect();
    assert!(names.contains(&"fresh A".to_string()) && names.contains(&"www A".to_string()), "{names:?}");
    assert!(!names.contains(&"www CNAME".to_string()), "{names:?}");
}

#[test]
fn a_50000_record_zone_imports_and_exports() {
    let s = Server::start();
    let t = s.user_token("big", &[], &[]);
    let z = s.zone(&t, "big.example");
    let mut text = String::from("$ORIGIN big.example.\n$TTL 300\n");
    for i in 0..50_000 {
        match i % 5 {
            0 => text.push_str(&format!("h{i} A 10.{}.{}.{}\n", i / 65536 % 256, i / 256 % 256, i % 256)),
            1 => text.push_str(&format!("h{i} AAAA 2001:db8::{:x}\n", i)),
            2 => text.push_str(&format!("h{i} TXT \"record {i}\"\n")),
            3 => text.push_str(&format!("h{i} MX 10 h{}\n", i - 3)),
            _ => text.push_str(&format!("c{i} CNAME h{}\n", i - 4)),
        }
    }
    let r = import(&s, &t, &z, "?mode=replace", &text);
    assert_eq!(
        (r.status, r.body["added"].as_array().map(Vec::len)),
        (200, Some(50_000)),
        "{}",
        &r.text[..300.min(r.text.len())]
    );
    assert_eq!(crate::dig::dig(s.dns, &["c49999.big.example", "A"]).data("A"), ["10.0.195.75"]);
    let exported = export(&s, &t, &z);
    assert_eq!(exported.lines().filter(|l| !l.starts_with(';') && !l.starts_with('$')).count(), 50_000 + 2);
    checkzone("big.example", &exported);
}

#[test]
fn the_cli_exports_and_imports() {
    let s = Server::start();
    let t = s.user_token("cli-zf", &[], &[]);
    let z = s.zone(&t, "cli.example");
    s.post(&format!("/api/v1/domains/{z}/dns"), &t, json!({"type": "A", "name": "www", "content": "192.0.2.1"}));
    let (s, _dir) = s.stop();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.zone");
    std::fs::write(&file, "$ORIGIN cli.example.\nmail 300 IN A 192.0.2.25\nx IN LOC 1 2 3\n").unwrap();
    let nsbox =
        |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_nsbox")).arg("--data").arg(&s).args(args).output().unwrap();
    let dry = nsbox(&["zone", "import", "cli.example", file.to_str().unwrap(), "--dry-run"]);
    assert!(String::from_utf8_lossy(&dry.stdout).contains("not imported: 1 added"), "{dry:?}");
    let out = nsbox(&["zone", "import", "cli.example", file.to_str().unwrap()]);
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stderr).contains("line 3: invalid LOC data"),
        "{out:?}"
    );
    let exported = nsbox(&["zone", "export", "cli.example"]);
    let text = String::from_utf8_lossy(&exported.stdout).to_string();
    assert!(text.contains("www\t300\tIN\tA\t192.0.2.1") && text.contains("mail\t300\tIN\tA\t192.0.2.25"), "{text}");
    checkzone("cli.example", &text);
}

#[test]
fn a_zone_is_created_from_a_file_in_one_call() {
    let s = Server::start();
    let t = s.user_token("onecall", &[], &[]);
    let created = s.request("POST", "/api/v1/dns-zones/", Some(&t), None);
    assert_eq!(created.status, 400, "an empty JSON body is still an error");
    let post = |body: &str, query: &str| {
        let r = ureq::post(&format!("{}/api/v1/dns-zones/{query}", s.base))
            .set("Authorization", &format!("Bearer {t}"))
            .set("Content-Type", "text/dns")
            .send_string(body);
        match r {
            Ok(r) | Err(ureq::Error::Status(_, r)) => (r.status(), r.into_string().unwrap_or_default()),
            Err(e) => panic!("{e}"),
        }
    };
    let (status, body) = post(DELEGATIONS, "");
    assert_eq!(status, 201, "{body}");
    let zone: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((zone["domain"].as_str(), zone["record_count"].as_u64()), (Some("parent.example"), Some(7)));
    let (status, body) = post("www A 300.1.1.1\n", "?domain=broken.example");
    assert!(status == 400 && body.contains("no zone was created"), "{body}");
    assert_eq!(s.get("/api/v1/dns-zones/?domain=broken.example", &t).body, json!([]));
}
