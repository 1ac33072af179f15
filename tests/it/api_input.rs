//! Bad input gets its documented status and code and writes nothing; data survives a restart.

use serde_json::json;

use crate::support::Server;

#[test]
fn every_bad_input_class_is_a_clear_error() {
    let s = Server::start();
    let t = s.user_token("input", &[], &[]);
    let z = s.zone(&t, "example.com");
    let vps = format!("/api/v1/dns-zones/{z}/records/");
    let pocket = format!("/api/v1/domains/{z}/dns");
    let raw = |method: &str, path: &str, body: &[u8]| s.request(method, path, Some(&t), Some(body));

    // Malformed JSON and invalid UTF-8: 400 in both dialects.
    for path in [&vps, &pocket, &"/api/v1/dns-zones/".to_string()] {
        raw("POST", path, b"{\"record_type\": ").error(400, "validation_error");
        raw("POST", path, b"\xff\xfe{}").error(400, "validation_error");
        raw("POST", path, b"").error(400, "validation_error");
    }
    // Wrong JSON types: VPS.org says 400, PocketDNS 422 (its "Invalid DNS record format"); the field is named.
    let vps_type = raw("POST", &vps, br#"{"record_type": "A", "name": "x", "value": "192.0.2.1", "ttl": "long"}"#);
    assert_eq!(vps_type.error(400, "validation_error")["field"], "ttl");
    let pocket_type = raw("POST", &pocket, br#"{"type": "A", "name": "x", "content": ["192.0.2.1"]}"#);
    assert_eq!(pocket_type.error(422, "unprocessable_entity")["field"], "content");
    raw("POST", &pocket, b"[1, 2]").error(422, "unprocessable_entity");
    raw("POST", "/api/v1/dns-zones/", br#"{"domain": 42}"#).error(400, "validation_error");
    raw("POST", &pocket, br#"{"type": "A", "name": "x", "content": "192.0.2.1", "ttl": 1e99}"#)
        .error(422, "unprocessable_entity");
    // Missing fields name themselves.
    assert_eq!(
        raw("POST", &pocket, br#"{"name": "x", "content": "192.0.2.1"}"#).error(400, "validation_error")["field"],
        "type"
    );
    assert_eq!(
        raw("POST", &vps, br#"{"record_type": "A", "name": "x"}"#).error(400, "validation_error")["field"],
        "value"
    );
    // Bodies over the limit: 413.
    let huge = format!("{{\"domain\": \"{}\"}}", "a".repeat(2 << 20));
    raw("POST", "/api/v1/dns-zones/", huge.as_bytes()).error(413, "payload_too_large");
    // Unknown ids, unknown routes and methods.
    s.get("/api/v1/dns-zones/dom_nope/", &t).error(404, "not_found");
    s.get("/api/v1/dns-records/rec_nope", &t).error(404, "not_found");
    s.get("/api/v1/dns-zones/%00%ff/records", &t).error(404, "not_found");
    s.get("/api/v1/domains/dom_nope/dns", &t).error(404, "not_found");
    s.get("/api/v1/no-such-thing", &t).error(404, "not_found");
    s.request("PATCH", "/api/v1/dns-zones/", Some(&t), Some(b"{}")).error(405, "method_not_allowed");
    // Absurd query parameters.
    s.get("/api/v1/dns-zones/?page=99999999999999999999999", &t).error(400, "validation_error");
    s.get(&format!("/api/v1/dns-records/?zone={}", "z".repeat(5000)), &t).error(404, "not_found");

    let after = s.get(&format!("/api/v1/dns-zones/{z}/"), &t);
    assert_eq!(after.body["record_count"], 0, "no rejected request wrote anything: {}", after.text);
    assert_eq!(s.get("/api/v1/dns-zones/", &t).body.as_array().map(Vec::len), Some(1));
}

#[test]
fn everything_survives_a_restart() {
    let s = Server::start();
    let t = s.user_token("durable", &[], &[]);
    let z = s.zone(&t, "example.com");
    let rec = s.post(&format!("/api/v1/domains/{z}/dns"), &t, json!({"type": "TXT", "name": "@", "content": "hello"}));
    assert_eq!(rec.status, 201);
    let before = s.get(&format!("/api/v1/dns-zones/{z}/"), &t).body;

    let s = s.restart();
    let after = s.get(&format!("/api/v1/dns-zones/{z}/"), &t);
    assert_eq!(after.status, 200, "the token still works after a restart: {}", after.text);
    assert_eq!(after.body, before);
    assert_eq!(s.get("/api/v1/tokens?all=true", &s.admin_token).body["tokens"].as_array().map(Vec::len), Some(2));

    // Found, renamed and deleted by id alone: the index of ids is rebuilt from the file.
    let record = format!("/api/v1/dns-records/{}/", rec.body["id"].as_str().unwrap_or_default());
    assert_eq!(s.get(&record, &t).body["value"], "hello");
    let renamed = s.send("PATCH", &record, &t, json!({"name": "note"}));
    assert_eq!((renamed.status, &renamed.body["name"]), (200, &json!("note")), "{}", renamed.text);
    let s = s.restart();
    assert_eq!(s.get(&record, &t).body["name"], "note", "the rename is found after a restart");
    assert_eq!(s.delete(&record, &t).status, 204);
    assert_eq!(s.get(&record, &t).status, 404);
}

#[test]
fn every_answer_carries_a_request_id() {
    let s = Server::start();
    let t = s.user_token("rid", &[], &[]);
    let mine = ureq::get(&format!("{}/api/v1/dns-zones/", s.base))
        .set("Authorization", &format!("Bearer {t}"))
        .set("X-Request-Id", "trace-42")
        .call()
        .unwrap();
    assert_eq!(mine.header("x-request-id"), Some("trace-42"), "the caller's id is kept");
    let fresh = s.get("/api/v1/dns-zones/", &t);
    let id = fresh.header("x-request-id").unwrap_or_default();
    assert!(id.len() == 16 && id != "trace-42", "{id}");
    let hostile = ureq::get(&format!("{}/healthz", s.base)).set("X-Request-Id", "a b\"<script>").call().unwrap();
    assert_ne!(hostile.header("x-request-id"), Some("a b\"<script>"), "an odd id is replaced");
    assert!(s.get("/api/v1/nope", &t).header("x-request-id").is_some(), "errors too");
}

/// Server-Timing says how long the server took, and for an API call how much of it the token
/// check took (the figure `bench/run.sh api` reports for it).
#[test]
fn answers_say_where_the_time_went() {
    let s = Server::start();
    let t = s.user_token("timed", &[], &[]);
    let durations = |timing: &str| -> Vec<(String, f64)> {
        timing
            .split(',')
            .filter_map(|part| {
                let (name, dur) = part.trim().split_once(";dur=")?;
                Some((name.to_string(), dur.parse().ok()?))
            })
            .collect()
    };
    let me = s.get("/api/v1/me", &t);
    let timed = durations(me.header("server-timing").unwrap_or_default());
    assert_eq!(timed.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["app", "auth"], "{timed:?}");
    assert!(timed[1].1 <= timed[0].1, "the check is part of the answer: {timed:?}");
    let health = ureq::get(&format!("{}/healthz", s.base)).call().unwrap();
    let timed = durations(health.header("server-timing").unwrap_or_default());
    assert_eq!(timed.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["app"], "no token, no check");
    let refused = s.get("/api/v1/me", "vps_not_a_token");
    assert_eq!(refused.status, 401);
    assert!(!refused.header("server-timing").unwrap_or_default().contains("auth"), "only checks that passed are timed");
}
