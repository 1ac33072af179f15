//! The VPS.org dialect (seed 003), example by example.

use serde_json::{Value, json};

use crate::support::Server;

fn record_fields(r: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = r.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    keys.sort();
    keys
}

#[test]
fn zone_lifecycle_follows_the_document() {
    let s = Server::start();
    let t = s.user_token("vps-user", &[], &[]);

    // KOZ /api/v1/dns-zones/: 201 with the documented shape.
    let created = s.post("/api/v1/dns-zones/", &t, json!({"domain": "newdomain.com"}));
    assert_eq!(created.status, 201, "{}", created.text);
    let zone = &created.body;
    assert!(zone["uuid"].as_str().is_some_and(|u| u.starts_with("dom_")));
    assert_eq!(zone["domain"], "newdomain.com");
    assert_eq!(zone["record_count"], 0);
    assert_eq!(zone["records"], json!([]));
    let created_at = zone["created_at"].as_str().unwrap_or_default();
    assert!(created_at.len() == 20 && created_at.ends_with('Z'), "{created_at}");
    let id = zone["uuid"].as_str().unwrap_or_default().to_string();

    // Already existing or invalid: 400.
    s.post("/api/v1/dns-zones/", &t, json!({"domain": "NewDomain.com."})).error(400, "validation_error");
    let bad = s.post("/api/v1/dns-zones/", &t, json!({"domain": "not a domain"}));
    assert_eq!(bad.error(400, "validation_error")["field"], "domain");

    // STENDIN list: a plain array, filtered by ?domain=.
    s.zone(&t, "myapp.io");
    let list = s.get("/api/v1/dns-zones/", &t);
    assert_eq!(list.status, 200);
    let domains: Vec<&str> = list.body.as_array().unwrap().iter().map(|z| z["domain"].as_str().unwrap()).collect();
    assert_eq!(domains, ["myapp.io", "newdomain.com"]);
    assert!(list.body[0].get("records").is_none());
    let filtered = s.get("/api/v1/dns-zones/?domain=myapp.io", &t);
    assert_eq!(filtered.body.as_array().map(Vec::len), Some(1));
    assert_eq!(filtered.body[0]["domain"], "myapp.io");

    // Nested record creation (the document's example), then the zone detail shows it.
    let rec = s.post(
        &format!("/api/v1/dns-zones/{id}/records/"),
        &t,
        json!({"record_type": "A", "name": "www", "value": "192.0.2.1", "ttl": 3600}),
    );
    assert_eq!(rec.status, 201, "{}", rec.text);
    assert_eq!(
        record_fields(&rec.body),
        ["created_at", "name", "priority", "record_type", "ttl", "uuid", "value", "zone"]
    );
    assert_eq!(rec.body["priority"], Value::Null);
    let mx = s.post(
        &format!("/api/v1/dns-zones/{id}/records/"),
        &t,
        json!({"record_type": "MX", "name": "@", "value": "mail.example.com", "priority": 10}),
    );
    assert_eq!(mx.status, 201, "{}", mx.text);
    assert_eq!(mx.body["ttl"], 3600, "VPS.org default TTL");

    let detail = s.get(&format!("/api/v1/dns-zones/{id}/"), &t);
    assert_eq!(detail.status, 200);
    assert_eq!(detail.body["record_count"], 2);
    assert_eq!(detail.body["records"].as_array().map(Vec::len), Some(2));
    assert!(detail.body["serial"].as_u64().is_some_and(|s| s > 2_000_000_000));
    let nested = s.get(&format!("/api/v1/dns-zones/{id}/records/"), &t);
    assert_eq!(nested.body.as_array().map(Vec::len), Some(2));

    // JÊBIRIN: 204, then 404.
    let gone = s.delete(&format!("/api/v1/dns-zones/{id}/"), &t);
    assert_eq!((gone.status, gone.text.as_str()), (204, ""));
    s.get(&format!("/api/v1/dns-zones/{id}/"), &t).error(404, "not_found");
    assert_eq!(s.get(&format!("/api/v1/dns-records/{}/", rec.body["uuid"].as_str().unwrap()), &t).status, 404);
}

#[test]
fn records_direct_access_and_filters() {
    let s = Server::start();
    let t = s.user_token("vps-records", &[], &[]);
    let a = s.zone(&t, "example.com");
    let b = s.zone(&t, "example.org");
    let add = |zone: &str, body: Value| {
        let r = s.post(&format!("/api/v1/dns-zones/{zone}/records"), &t, body);
        assert_eq!(r.status, 201, "{}", r.text);
        r.body["uuid"].as_str().unwrap().to_string()
    };
    let www = add(&a, json!({"record_type": "A", "name": "www", "value": "192.0.2.1"}));
    add(&a, json!({"record_type": "TXT", "name": "@", "value": "v=spf1 include:_spf.google.com ~all"}));
    add(&b, json!({"record_type": "AAAA", "name": "@", "value": "2001:0db8::1"}));
    add(&b, json!({"record_type": "CAA", "name": "@", "value": "0 issue \"letsencrypt.org\""}));
    let srv =
        add(&a, json!({"record_type": "SRV", "name": "_sip._tcp", "value": "10 5060 sip.example.com", "priority": 10}));

    assert_eq!(s.get("/api/v1/dns-records/", &t).body.as_array().map(Vec::len), Some(5));
    assert_eq!(s.get(&format!("/api/v1/dns-records/?zone={b}"), &t).body.as_array().map(Vec::len), Some(2));
    let aaaa = s.get("/api/v1/dns-records?record_type=AAAA", &t);
    assert_eq!(aaaa.body.as_array().map(Vec::len), Some(1));
    assert_eq!(aaaa.body[0]["value"], "2001:db8::1", "addresses are stored canonically");
    s.get("/api/v1/dns-records/?record_type=BOGUS", &t).error(400, "validation_error");

    // GET, PATCH (the document's TTL example), PUT, DELETE on /dns-records/{uuid}/.
    assert_eq!(s.get(&format!("/api/v1/dns-records/{www}/"), &t).body["value"], "192.0.2.1");
    let patched = s.send("PATCH", &format!("/api/v1/dns-records/{www}/"), &t, json!({"ttl": 1800}));
    assert_eq!(
        (patched.status, patched.body["ttl"].as_u64(), patched.body["value"].as_str()),
        (200, Some(1800), Some("192.0.2.1"))
    );
    let put = s.send(
        "PUT",
        &format!("/api/v1/dns-records/{www}"),
        &t,
        json!({"record_type": "CNAME", "name": "www", "value": "example.net"}),
    );
    assert_eq!(put.status, 200, "{}", put.text);
    assert_eq!(
        (put.body["record_type"].as_str(), put.body["ttl"].as_u64()),
        (Some("CNAME"), Some(3600)),
        "PUT replaces the whole record"
    );
    let incomplete = s.send("PUT", &format!("/api/v1/dns-records/{www}/"), &t, json!({"ttl": 600}));
    assert_eq!(incomplete.error(400, "validation_error")["field"], "record_type");
    let srv_body = s.get(&format!("/api/v1/dns-records/{srv}/"), &t).body;
    assert_eq!(
        (srv_body["value"].as_str(), srv_body["priority"].as_u64()),
        (Some("10 5060 sip.example.com"), Some(10))
    );
    assert_eq!(s.delete(&format!("/api/v1/dns-records/{www}/"), &t).status, 204);
    s.delete(&format!("/api/v1/dns-records/{www}/"), &t).error(404, "not_found");
}

#[test]
fn documented_error_example_is_exact() {
    let s = Server::start();
    let t = s.user_token("vps-errors", &[], &[]);
    let z = s.zone(&t, "example.com");
    let r = s.post(
        &format!("/api/v1/dns-zones/{z}/records/"),
        &t,
        json!({"record_type": "MX", "name": "@", "value": "mail.example.com"}),
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"detail": "MX records require a priority value", "error_code": "validation_error", "field": "priority"})
    );
    let bad_value = s.post(
        &format!("/api/v1/dns-zones/{z}/records/"),
        &t,
        json!({"record_type": "A", "name": "x", "value": "300.0.0.1"}),
    );
    assert_eq!(bad_value.error(400, "validation_error")["field"], "value");
    let bad_type = s.post(
        &format!("/api/v1/dns-zones/{z}/records/"),
        &t,
        json!({"record_type": "BOGUS", "name": "x", "value": "1"}),
    );
    let detail = bad_type.error(400, "validation_error")["detail"].as_str().unwrap().to_string();
    assert!(detail.contains("A, AAAA, NS, CNAME") && detail.contains("TYPEnnn"), "{detail}");
    let bad_data = s.post(
        &format!("/api/v1/dns-zones/{z}/records/"),
        &t,
        json!({"record_type": "TLSA", "name": "_443._tcp", "value": "3 1 1 not-hex"}),
    );
    let detail = bad_data.error(400, "validation_error")["detail"].as_str().unwrap().to_string();
    assert!(detail.contains("TLSA syntax: <usage> <selector>"), "the type's syntax is named: {detail}");
}

#[test]
fn pagination_slices_with_link_and_total() {
    let s = Server::start();
    let t = s.user_token("vps-pages", &[], &[]);
    let z = s.zone(&t, "example.com");
    for i in 0..7 {
        let r = s.post(
            &format!("/api/v1/dns-zones/{z}/records/"),
            &t,
            json!({"record_type": "A", "name": format!("h{i}"), "value": "192.0.2.1"}),
        );
        assert_eq!(r.status, 201);
    }
    let page = s.get(&format!("/api/v1/dns-zones/{z}/records/?page=2&page_size=3"), &t);
    assert_eq!(page.status, 200);
    let names: Vec<&str> = page.body.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["h3", "h4", "h5"], "creation order");
    assert_eq!(page.header("X-Total-Count"), Some("7"));
    let link = page.header("Link").unwrap_or_default();
    assert!(
        link.contains("page=3&page_size=3>; rel=\"next\"") && link.contains("page=1&page_size=3>; rel=\"prev\""),
        "{link}"
    );
    let last = s.get(&format!("/api/v1/dns-records/?zone={z}&page=3&page_size=3"), &t);
    assert_eq!(last.body.as_array().map(Vec::len), Some(1));
    assert!(!last.header("Link").unwrap_or_default().contains("rel=\"next\""));
    let whole = s.get(&format!("/api/v1/dns-zones/{z}/records"), &t);
    assert_eq!((whole.body.as_array().map(Vec::len), whole.header("X-Total-Count")), (Some(7), None));
    for bad in ["page=0", "page=abc", "page_size=100000", "page=-1", "page_size=0"] {
        s.get(&format!("/api/v1/dns-zones/{z}/records/?{bad}"), &t).error(400, "validation_error");
    }
}

#[test]
fn record_rules_are_enforced() {
    let s = Server::start();
    let t = s.user_token("vps-rules", &[], &[]);
    let z = s.zone(&t, "Bücher.example");
    let zone = s.get(&format!("/api/v1/dns-zones/{z}"), &t);
    assert_eq!(zone.body["domain"], "xn--bcher-kva.example", "IDNs are stored as A-labels");
    let path = format!("/api/v1/dns-zones/{z}/records/");
    let add = |body: Value| s.post(&path, &t, body);

    assert_eq!(
        add(json!({"record_type": "A", "name": "www.xn--bcher-kva.example.", "value": "192.0.2.1"})).body["name"],
        "www"
    );
    assert_eq!(add(json!({"record_type": "TXT", "name": "_dmarc", "value": "v=DMARC1; p=none"})).status, 201);
    assert_eq!(add(json!({"record_type": "A", "name": "*.dev", "value": "192.0.2.9"})).status, 201);
    let long_txt = "k=".to_string() + &"a".repeat(700);
    let txt = add(json!({"record_type": "TXT", "name": "dkim._domainkey", "value": long_txt}));
    assert_eq!(txt.body["value"].as_str().map(str::len), Some(702), "TXT longer than 255 bytes is accepted");

    // A duplicate is a conflict; a CNAME stands alone and never at the apex.
    add(json!({"record_type": "A", "name": "www", "value": "192.0.2.1", "ttl": 600})).error(409, "conflict");
    add(json!({"record_type": "CNAME", "name": "www", "value": "example.net"})).error(409, "conflict");
    assert_eq!(
        add(json!({"record_type": "CNAME", "name": "@", "value": "example.net"})).error(400, "validation_error")["field"],
        "name"
    );
    assert_eq!(add(json!({"record_type": "CNAME", "name": "blog", "value": "example.net"})).status, 201);
    add(json!({"record_type": "TXT", "name": "blog", "value": "x"})).error(409, "conflict");

    for (body, field) in [
        (json!({"record_type": "A", "name": "www.other.com.", "value": "192.0.2.1"}), "name"),
        (json!({"record_type": "A", "name": "-bad", "value": "192.0.2.1"}), "name"),
        (json!({"record_type": "A", "name": "a".repeat(64), "value": "192.0.2.1"}), "name"),
        (json!({"record_type": "A", "name": "x", "value": "192.0.2.1", "ttl": 59}), "ttl"),
        (json!({"record_type": "A", "name": "x", "value": "192.0.2.1", "ttl": 86401}), "ttl"),
        (json!({"record_type": "AAAA", "name": "x", "value": "192.0.2.1"}), "value"),
        (json!({"record_type": "NS", "name": "sub", "value": "not a host"}), "value"),
        (json!({"record_type": "SRV", "name": "_x._tcp", "value": "5 5060 sip.example.com"}), "priority"),
        (json!({"record_type": "CAA", "name": "@", "value": "0 issue"}), "value"),
        (json!({"record_type": "MX", "name": "@", "value": "mail.example.com", "priority": 70000}), "priority"),
    ] {
        let r = add(body.clone());
        assert_eq!(r.error(400, "validation_error")["field"], field, "{body}");
    }
    let count = s.get(&format!("/api/v1/dns-zones/{z}"), &t).body["record_count"].clone();
    assert_eq!(count, 5, "rejected records wrote nothing");
}

/// A record renamed over and over is found by its id at every moment: readers never see a
/// 404 while a rename moves it.
#[test]
fn a_record_is_found_by_id_while_it_is_renamed() {
    let s = Server::start();
    let t = s.user_token("mover", &[], &[]);
    let z = s.zone(&t, "moving.example");
    let created = s.post(
        &format!("/api/v1/dns-zones/{z}/records/"),
        &t,
        json!({"record_type": "A", "name": "n0", "value": "192.0.2.1"}),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    let record = format!("/api/v1/dns-records/{}/", created.body["uuid"].as_str().unwrap_or_default());
    let renaming = std::sync::atomic::AtomicBool::new(true);
    std::thread::scope(|scope| {
        let readers: Vec<_> = (0..3)
            .map(|_| {
                scope.spawn(|| {
                    let mut reads = 0;
                    while renaming.load(std::sync::atomic::Ordering::Relaxed) {
                        let r = s.get(&record, &t);
                        assert_eq!(r.status, 200, "read {reads} during the renames: {}", r.text);
                        reads += 1;
                    }
                    reads
                })
            })
            .collect();
        for i in 1..=60 {
            let r = s.send("PATCH", &record, &t, json!({"name": format!("n{i}")}));
            assert_eq!(r.status, 200, "{}", r.text);
        }
        renaming.store(false, std::sync::atomic::Ordering::Relaxed);
        let reads: usize = readers.into_iter().map(|r| r.join().unwrap()).sum();
        assert!(reads > 60, "the readers ran alongside the renames ({reads} reads)");
    });
    assert_eq!(s.get(&record, &t).body["name"], "n60");
}
