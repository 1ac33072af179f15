//! The PocketDNS dialect (seed 000), example by example, and one id across both dialects.

use serde_json::{Value, json};

use crate::support::Server;

fn keys(r: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = r.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    keys.sort();
    keys
}

#[test]
fn records_follow_the_document() {
    let s = Server::start();
    let t = s.user_token("pocket-user", &[], &[]);
    let d = s.zone(&t, "example.com");
    let dns = format!("/api/v1/domains/{d}/dns");

    // Create A (the request example): 201 with the documented fields, default TTL 300.
    let a = s.post(&dns, &t, json!({"type": "A", "name": "www", "content": "192.0.2.1", "ttl": 300}));
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(keys(&a.body), ["content", "created_at", "id", "name", "priority", "ttl", "type", "updated_at"]);
    assert!(a.body["id"].as_str().is_some_and(|id| id.starts_with("rec_")));
    assert_eq!(a.body["priority"], Value::Null);
    let apex = s.post(&dns, &t, json!({"type": "A", "name": "@", "content": "192.0.2.1"}));
    assert_eq!(apex.body["ttl"], 300, "PocketDNS default TTL");
    let mx = s.post(
        &dns,
        &t,
        json!({"type": "MX", "name": "@", "content": "mail.example.com", "ttl": 3600, "priority": 10}),
    );
    assert_eq!((mx.status, mx.body["priority"].as_u64()), (201, Some(10)));
    let cname = s.post(&dns, &t, json!({"type": "CNAME", "name": "blog", "content": "example.com", "ttl": 300}));
    assert_eq!(cname.status, 201);
    for body in [
        json!({"type": "AAAA", "name": "@", "content": "2001:db8::1", "ttl": 300}),
        json!({"type": "TXT", "name": "@", "content": "v=spf1 include:_spf.google.com ~all", "ttl": 300}),
        json!({"type": "NS", "name": "subdomain", "content": "ns1.example.com", "ttl": 3600}),
    ] {
        assert_eq!(s.post(&dns, &t, body.clone()).status, 201, "{body}");
    }
    let srv = s.post(
        &dns,
        &t,
        json!({"type": "SRV", "name": "_sip._tcp", "content": "10 60 5060 sip.example.com", "ttl": 300}),
    );
    assert_eq!(
        (srv.body["content"].as_str(), srv.body["priority"].as_u64()),
        (Some("10 60 5060 sip.example.com"), Some(10))
    );
    s.post(&dns, &t, json!({"type": "CNAME", "name": "@", "content": "example.net"})).error(400, "validation_error");

    // GET: {"records": [...], "total": N}.
    let list = s.get(&dns, &t);
    assert_eq!(list.status, 200);
    assert_eq!(list.body["total"], 8);
    assert_eq!(list.body["records"].as_array().map(Vec::len), Some(8));

    // PUT changes only the fields given (the document's example).
    let id = apex.body["id"].as_str().unwrap();
    let put = s.send("PUT", &format!("{dns}/{id}"), &t, json!({"content": "192.0.2.2", "ttl": 600}));
    assert_eq!(put.status, 200, "{}", put.text);
    assert_eq!(
        (put.body["content"].as_str(), put.body["ttl"].as_u64(), put.body["name"].as_str()),
        (Some("192.0.2.2"), Some(600), Some("@"))
    );
    assert_eq!(put.body["created_at"], apex.body["created_at"]);
    let only_content = s.send("PUT", &format!("{dns}/{id}"), &t, json!({"content": "192.0.2.100"}));
    assert_eq!(
        (only_content.body["content"].as_str(), only_content.body["ttl"].as_u64()),
        (Some("192.0.2.100"), Some(600))
    );
    let srv_id = srv.body["id"].as_str().unwrap();
    let srv2 = s.send("PUT", &format!("{dns}/{srv_id}"), &t, json!({"content": "20 60 5061 sip.example.com"}));
    assert_eq!(
        (srv2.body["priority"].as_u64(), srv2.body["content"].as_str()),
        (Some(20), Some("20 60 5061 sip.example.com"))
    );
    let mx_id = mx.body["id"].as_str().unwrap();
    let mx2 = s.send("PUT", &format!("{dns}/{mx_id}"), &t, json!({"content": "mx2.example.com"}));
    assert_eq!((mx2.body["priority"].as_u64(), mx2.body["content"].as_str()), (Some(10), Some("mx2.example.com")));

    // DELETE: 204, then 404.
    let del = s.delete(&format!("{dns}/{id}"), &t);
    assert_eq!((del.status, del.text.as_str()), (204, ""));
    s.delete(&format!("{dns}/{id}"), &t).error(404, "not_found");
    s.send("PUT", &format!("{dns}/{id}"), &t, json!({"ttl": 600})).error(404, "not_found");
    assert_eq!(s.get(&dns, &t).body["total"], 7);

    // The caller's domains.
    let domains = s.get("/api/v1/domains", &t);
    assert_eq!(domains.body["total"], 1);
    assert_eq!(domains.body["domains"][0]["id"], d.as_str());
}

#[test]
fn bulk_answers_created_and_errors() {
    let s = Server::start();
    let t = s.user_token("pocket-bulk", &[], &[]);
    let d = s.zone(&t, "example.com");
    // The document's request, with the MX priority missing as in its response example.
    let r = s.post(
        &format!("/api/v1/domains/{d}/dns/bulk"),
        &t,
        json!({"records": [
            {"type": "A", "name": "@", "content": "192.0.2.1", "ttl": 300},
            {"type": "A", "name": "www", "content": "192.0.2.1", "ttl": 300},
            {"type": "MX", "name": "@", "content": "mail.example.com"},
            {"type": "A", "name": "bad", "content": "192.0.2.1", "ttl": "soon"},
            {"type": "A", "name": "www", "content": "192.0.2.1"}
        ]}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let created = r.body["created"].as_array().unwrap();
    assert_eq!(created.iter().map(|c| c["name"].as_str().unwrap()).collect::<Vec<_>>(), ["@", "www"]);
    assert!(created.iter().all(|c| c["id"].as_str().is_some_and(|id| id.starts_with("rec_"))));
    let errors = r.body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 3, "{}", r.text);
    let mx_error = errors.iter().find(|e| e["record"]["type"] == "MX").unwrap();
    assert_eq!(
        mx_error,
        &json!({"record": {"type": "MX", "name": "@", "content": "mail.example.com"}, "error": "Priority is required for MX records"})
    );
    assert!(errors.iter().any(|e| e["record"]["ttl"] == "soon"));
    assert!(errors.iter().any(|e| { e["error"].as_str().unwrap_or_default().contains("already exists") }));
    assert_eq!(s.get(&format!("/api/v1/domains/{d}/dns"), &t).body["total"], 2);
    let too_many: Vec<Value> =
        (0..1001).map(|i| json!({"type": "A", "name": format!("h{i}"), "content": "192.0.2.1"})).collect();
    s.post(&format!("/api/v1/domains/{d}/dns/bulk"), &t, json!({"records": too_many})).error(400, "validation_error");
}

#[test]
fn templates_apply_with_variables() {
    let s = Server::start();
    let t = s.user_token("pocket-tpl", &[], &[]);
    let d = s.zone(&t, "example.com");
    let listed = s.get("/api/v1/templates", &t);
    let ids: Vec<&str> =
        listed.body["templates"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    for id in ["tpl_website_basic", "tpl_google_workspace", "tpl_microsoft_365", "tpl_fastmail", "tpl_letsencrypt_caa"]
    {
        assert!(ids.contains(&id), "{id} in {ids:?}");
    }
    let basic = &listed.body["templates"].as_array().unwrap().iter().find(|t| t["id"] == "tpl_website_basic").unwrap()
        ["variables"];
    assert_eq!(basic[0]["name"], "ip_address");

    let path = format!("/api/v1/domains/{d}/dns/template");
    // The document's example: ip_address alone gives the two A records.
    let r = s.post(&path, &t, json!({"template_id": "tpl_website_basic", "variables": {"ip_address": "192.0.2.1"}}));
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["template_id"], "tpl_website_basic");
    let made: Vec<(&str, &str)> = r.body["records_created"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["type"].as_str().unwrap(), r["name"].as_str().unwrap()))
        .collect();
    assert_eq!(made, [("A", "@"), ("A", "www")]);

    let unknown = s.post(&path, &t, json!({"template_id": "tpl_nope", "variables": {}}));
    assert!(unknown.error(400, "validation_error")["detail"].as_str().unwrap().contains("tpl_nope"));
    let missing = s.post(&path, &t, json!({"template_id": "tpl_microsoft_365", "variables": {}}));
    assert!(missing.error(400, "validation_error")["detail"].as_str().unwrap().contains("mx_host"));
    // All or nothing: a bad variable value leaves the zone as it was.
    let bad = s.post(&path, &t, json!({"template_id": "tpl_microsoft_365", "variables": {"mx_host": "not a host"}}));
    bad.error(400, "validation_error");
    let caa = s.post(
        &path,
        &t,
        json!({"template_id": "tpl_letsencrypt_caa", "variables": {"iodef_email": "sec@example.com"}}),
    );
    assert_eq!(caa.body["records_created"].as_array().map(Vec::len), Some(3), "{}", caa.text);
    assert_eq!(s.get(&format!("/api/v1/domains/{d}/dns"), &t).body["total"], 5);
}

#[test]
fn one_id_across_both_dialects() {
    let s = Server::start();
    let t = s.user_token("both", &[], &[]);
    let z = s.zone(&t, "example.com");
    // Created through VPS.org, changed and deleted through PocketDNS.
    let vps = s.post(
        &format!("/api/v1/dns-zones/{z}/records/"),
        &t,
        json!({"record_type": "A", "name": "www", "value": "192.0.2.1"}),
    );
    let id = vps.body["uuid"].as_str().unwrap().to_string();
    let pocket_list = s.get(&format!("/api/v1/domains/{z}/dns"), &t);
    assert_eq!(pocket_list.body["records"][0]["id"], id.as_str());
    let changed = s.send("PUT", &format!("/api/v1/domains/{z}/dns/{id}"), &t, json!({"content": "192.0.2.7"}));
    assert_eq!(changed.status, 200);
    assert_eq!(s.get(&format!("/api/v1/dns-records/{id}/"), &t).body["value"], "192.0.2.7");
    assert_eq!(s.delete(&format!("/api/v1/domains/{z}/dns/{id}"), &t).status, 204);
    s.get(&format!("/api/v1/dns-records/{id}/"), &t).error(404, "not_found");
    // Created through PocketDNS (SRV with its priority in front), read and patched through VPS.org.
    let p = s.post(
        &format!("/api/v1/domains/{z}/dns"),
        &t,
        json!({"type": "SRV", "name": "_sip._tcp", "content": "10 60 5060 sip.example.com"}),
    );
    let pid = p.body["id"].as_str().unwrap();
    let v = s.get(&format!("/api/v1/dns-records/{pid}"), &t);
    assert_eq!((v.body["value"].as_str(), v.body["priority"].as_u64()), (Some("60 5060 sip.example.com"), Some(10)));
    let patched = s.send("PATCH", &format!("/api/v1/dns-records/{pid}/"), &t, json!({"priority": 5}));
    assert_eq!(patched.body["priority"], 5);
    let back = s.get(&format!("/api/v1/domains/{z}/dns"), &t);
    assert_eq!(back.body["records"][0]["content"], "5 60 5060 sip.example.com");
    // A record id under the wrong domain is not found.
    let other = s.zone(&t, "example.org");
    s.delete(&format!("/api/v1/domains/{other}/dns/{pid}"), &t).error(404, "not_found");
}

/// Writers at the same time (single-record calls then go to the blocking pool, not the HTTP
/// worker): every create lands exactly once and is on the wire when its answer comes.
#[test]
fn concurrent_creates_all_land() {
    let s = Server::start();
    let t = s.user_token("busy", &[], &[]);
    let z = s.zone(&t, "busy.example");
    let dns = format!("/api/v1/domains/{z}/dns");
    let ids: Vec<String> = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..6)
            .map(|w| {
                let (s, t, dns) = (&s, &t, &dns);
                scope.spawn(move || {
                    (0..15)
                        .map(|i| {
                            let content = format!("192.0.2.{}", w * 15 + i + 1);
                            let r =
                                s.post(dns, t, json!({"type": "A", "name": format!("h{w}-{i}"), "content": content}));
                            assert_eq!(r.status, 201, "{}", r.text);
                            let name = format!("h{w}-{i}.busy.example");
                            assert_eq!(crate::dig::dig(s.dns, &[&name, "A"]).data("A"), [content]);
                            r.body["id"].as_str().unwrap_or_default().to_string()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        writers.into_iter().flat_map(|w| w.join().unwrap()).collect()
    });
    assert_eq!(ids.iter().collect::<std::collections::BTreeSet<_>>().len(), 90);
    assert_eq!(s.get(&dns, &t).body["total"], 90);
}
