//! Who may do what: tokens, scopes, zone limits, isolation between users, rate limits, admin API.

use nsbox::config::ServeConfig;
use serde_json::json;

use crate::support::Server;

#[test]
fn missing_bad_and_revoked_tokens_are_401() {
    let s = Server::start();
    let t = s.user_token("auth-user", &[], &[]);
    s.request("GET", "/api/v1/dns-zones/", None, None).error(401, "unauthorized");
    s.get("/api/v1/dns-zones/", "vps_notatoken").error(401, "unauthorized");
    // The secret's last character changed (to one it is not: 'x' is in the alphabet too).
    let last = if t.ends_with('x') { 'y' } else { 'x' };
    let forged = format!("{}{last}", &t[..t.len() - 1]);
    s.get("/api/v1/dns-zones/", &forged).error(401, "unauthorized");
    s.get("/api/v1/domains", "sk_live_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
        .error(401, "unauthorized");
    assert_eq!(s.get("/api/v1/dns-zones/", &t).status, 200);

    // Revoking works at once, although the token was verified (and cached) before.
    let tokens = s.get("/api/v1/tokens?all=true", &s.admin_token);
    let id = tokens.body["tokens"].as_array().unwrap().iter().find(|x| x["name"] == "auth-user token").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        t.starts_with(
            tokens.body["tokens"].as_array().unwrap().iter().find(|x| x["id"] == id.as_str()).unwrap()["prefix"]
                .as_str()
                .unwrap()
        )
    );
    assert_eq!(s.delete(&format!("/api/v1/tokens/{id}"), &s.admin_token).status, 204);
    s.get("/api/v1/dns-zones/", &t).error(401, "unauthorized");
    s.get("/api/v1/domains", &t).error(401, "unauthorized");
}

#[test]
fn both_token_styles_work_in_both_dialects() {
    let s = Server::start();
    let users = s.post("/api/v1/users", &s.admin_token, json!({"username": "styles"}));
    let uid = users.body["id"].as_str().unwrap();
    for style in ["vps", "sk_live"] {
        let r = s.post("/api/v1/tokens", &s.admin_token, json!({"name": style, "style": style, "user_id": uid}));
        assert_eq!(r.status, 201, "{}", r.text);
        let token = r.body["token"].as_str().unwrap();
        assert!(token.starts_with(&format!("{style}_")), "{token}");
        assert_eq!(s.get("/api/v1/dns-zones/", token).status, 200);
        assert_eq!(s.get("/api/v1/domains", token).status, 200);
        // The token is shown once: listing never returns it or its hash.
        let listed = s.get("/api/v1/tokens", token);
        assert!(!listed.text.contains(token) && !listed.text.contains("argon2"), "{}", listed.text);
    }
}

#[test]
fn scopes_are_enforced_and_named() {
    let s = Server::start();
    let full = s.user_token("scoped", &[], &[]);
    let z = s.zone(&full, "example.com");
    let rec = s.post(
        &format!("/api/v1/dns-zones/{z}/records/"),
        &full,
        json!({"record_type": "A", "name": "www", "value": "192.0.2.1"}),
    );
    let rid = rec.body["uuid"].as_str().unwrap().to_string();
    let read_only = s.user_token("scoped", &["dns:read"], &[]);
    let e = s.get("/api/v1/dns-zones/", &read_only);
    assert!(e.error(403, "forbidden")["detail"].as_str().unwrap().contains("dns:list"));
    assert_eq!(s.get(&format!("/api/v1/dns-zones/{z}/"), &read_only).status, 200);
    assert_eq!(s.get(&format!("/api/v1/domains/{z}/dns"), &read_only).status, 200);
    let cases = [
        s.post("/api/v1/dns-zones/", &read_only, json!({"domain": "new.com"})),
        s.post(
            &format!("/api/v1/dns-zones/{z}/records/"),
            &read_only,
            json!({"record_type": "A", "name": "x", "value": "192.0.2.1"}),
        ),
        s.post(&format!("/api/v1/domains/{z}/dns/bulk"), &read_only, json!({"records": []})),
        s.send("PATCH", &format!("/api/v1/dns-records/{rid}/"), &read_only, json!({"ttl": 600})),
        s.send("PUT", &format!("/api/v1/domains/{z}/dns/{rid}"), &read_only, json!({"ttl": 600})),
        s.delete(&format!("/api/v1/dns-records/{rid}/"), &read_only),
        s.delete(&format!("/api/v1/dns-zones/{z}/"), &read_only),
    ];
    for (r, scope) in cases.iter().zip([
        "dns:create",
        "dns:create",
        "dns:create",
        "dns:update",
        "dns:update",
        "dns:delete",
        "dns:delete",
    ]) {
        assert!(r.error(403, "forbidden")["detail"].as_str().unwrap().contains(scope), "{}", r.text);
    }
    // A token cannot mint a token with more rights than it has.
    let escalate = s.post("/api/v1/tokens", &read_only, json!({"name": "more", "scopes": ["dns:delete"]}));
    escalate.error(403, "forbidden");
    assert_eq!(s.get(&format!("/api/v1/dns-zones/{z}/"), &full).body["record_count"], 1, "nothing was written");
}

#[test]
fn other_users_zones_do_not_exist() {
    let s = Server::start();
    let alice = s.user_token("alice", &[], &[]);
    let bob = s.user_token("bob", &[], &[]);
    let z = s.zone(&alice, "alice.example");
    let rec = s.post(
        &format!("/api/v1/domains/{z}/dns"),
        &alice,
        json!({"type": "A", "name": "www", "content": "192.0.2.1"}),
    );
    let rid = rec.body["id"].as_str().unwrap().to_string();
    assert_eq!(s.get("/api/v1/dns-zones/", &bob).body, json!([]));
    assert_eq!(s.get("/api/v1/dns-zones/?domain=alice.example", &bob).body, json!([]));
    assert_eq!(s.get("/api/v1/dns-records/", &bob).body, json!([]));
    assert_eq!(s.get("/api/v1/domains", &bob).body["total"], 0);
    let attempts = [
        s.get(&format!("/api/v1/dns-zones/{z}/"), &bob),
        s.get(&format!("/api/v1/dns-zones/{z}/records/"), &bob),
        s.post(
            &format!("/api/v1/dns-zones/{z}/records/"),
            &bob,
            json!({"record_type": "A", "name": "x", "value": "192.0.2.1"}),
        ),
        s.get(&format!("/api/v1/dns-records/?zone={z}"), &bob),
        s.get(&format!("/api/v1/dns-records/{rid}/"), &bob),
        s.send("PATCH", &format!("/api/v1/dns-records/{rid}/"), &bob, json!({"ttl": 600})),
        s.delete(&format!("/api/v1/dns-records/{rid}/"), &bob),
        s.delete(&format!("/api/v1/dns-zones/{z}/"), &bob),
        s.get(&format!("/api/v1/domains/{z}/dns"), &bob),
        s.post(&format!("/api/v1/domains/{z}/dns"), &bob, json!({"type": "A", "name": "x", "content": "192.0.2.1"})),
        s.send("PUT", &format!("/api/v1/domains/{z}/dns/{rid}"), &bob, json!({"ttl": 600})),
        s.delete(&format!("/api/v1/domains/{z}/dns/{rid}"), &bob),
        s.post(&format!("/api/v1/domains/{z}/dns/bulk"), &bob, json!({"records": []})),
        s.post(
            &format!("/api/v1/domains/{z}/dns/template"),
            &bob,
            json!({"template_id": "tpl_website_basic", "variables": {"ip_address": "192.0.2.1"}}),
        ),
    ];
    let unknown_zone = s.get("/api/v1/dns-zones/dom_doesnotexist00/", &bob);
    let unknown_record = s.get("/api/v1/dns-records/rec_doesnotexist00/", &bob);
    for (i, r) in attempts.iter().enumerate() {
        r.error(404, "not_found");
        // Calls that name a record answer as for a record that does not exist.
        let by_record = [4, 5, 6, 10, 11].contains(&i);
        let unknown = if by_record { &unknown_record } else { &unknown_zone };
        assert_eq!(r.body, unknown.body, "call {i}: the same answer as for one that does not exist");
    }
    // Nor can bob take the domain or a name beneath it.
    s.post("/api/v1/dns-zones/", &bob, json!({"domain": "alice.example"})).error(400, "validation_error");
    s.post("/api/v1/dns-zones/", &bob, json!({"domain": "shop.alice.example"})).error(400, "validation_error");
    assert_eq!(s.get(&format!("/api/v1/dns-zones/{z}/"), &alice).body["record_count"], 1);
}

#[test]
fn zone_limited_tokens_see_only_their_zones() {
    let s = Server::start();
    let full = s.user_token("carol", &[], &[]);
    let a = s.zone(&full, "a.example");
    let b = s.zone(&full, "b.example");
    let limited = s.user_token("carol", &[], &["a.example"]);
    let listed = s.get("/api/v1/dns-zones/", &limited);
    assert_eq!(listed.body.as_array().map(Vec::len), Some(1));
    assert_eq!(s.get(&format!("/api/v1/dns-zones/{a}"), &limited).status, 200);
    s.get(&format!("/api/v1/dns-zones/{b}"), &limited).error(404, "not_found");
    s.post(&format!("/api/v1/domains/{b}/dns"), &limited, json!({"type": "A", "name": "x", "content": "192.0.2.1"}))
        .error(404, "not_found");
    s.post("/api/v1/dns-zones/", &limited, json!({"domain": "c.example"})).error(403, "forbidden");
}

#[test]
fn rate_limits_answer_429_with_headers() {
    let config = ServeConfig { rate_create: 3, rate_read: 5, ..ServeConfig::default() };
    let s = Server::start_with(config);
    let t = s.user_token("limited", &[], &[]);
    let z = s.zone(&t, "example.com");
    let path = format!("/api/v1/domains/{z}/dns");
    let first = s.post(&path, &t, json!({"type": "A", "name": "a", "content": "192.0.2.1"}));
    assert_eq!(
        (first.status, first.header("X-RateLimit-Limit"), first.header("X-RateLimit-Remaining")),
        (201, Some("3"), Some("1"))
    );
    assert_eq!(s.post(&path, &t, json!({"type": "A", "name": "b", "content": "192.0.2.1"})).status, 201);
    let refused = s.post(&path, &t, json!({"type": "A", "name": "c", "content": "192.0.2.1"}));
    refused.error(429, "rate_limit_exceeded");
    let retry: i64 = refused.header("Retry-After").and_then(|v| v.parse().ok()).unwrap_or(0);
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert_eq!(refused.header("X-RateLimit-Remaining"), Some("0"));
    assert!(refused.header("X-RateLimit-Reset").and_then(|v| v.parse::<i64>().ok()).is_some());
    // Budgets are per kind and per token: reads and another token still pass.
    let read = s.get(&path, &t);
    assert_eq!((read.status, read.body["total"].as_u64()), (200, Some(2)), "the refused create wrote nothing");
    let other = s.user_token("limited", &[], &[]);
    assert_eq!(s.post(&path, &other, json!({"type": "A", "name": "c", "content": "192.0.2.1"})).status, 201);
    for _ in 0..4 {
        s.get(&path, &t);
    }
    s.get(&path, &t).error(429, "rate_limit_exceeded");
}

#[test]
fn admin_api_manages_users_and_tokens() {
    let s = Server::start();
    let admin = &s.admin_token;
    let created = s.post("/api/v1/users", admin, json!({"username": "dave"}));
    assert_eq!(created.status, 201, "{}", created.text);
    assert!(created.body["password"].as_str().is_some_and(|p| p.len() >= 10), "a generated password is shown once");
    let uid = created.body["id"].as_str().unwrap().to_string();
    s.post("/api/v1/users", admin, json!({"username": "dave"})).error(409, "conflict");
    s.post("/api/v1/users", admin, json!({"username": "bad name!"})).error(400, "validation_error");
    s.post("/api/v1/users", admin, json!({"username": "erin", "password": "short"})).error(400, "validation_error");
    let listed = s.get("/api/v1/users", admin);
    assert!(!listed.text.contains("argon2") && !listed.text.contains("password"), "{}", listed.text);

    // A user's token cannot use the admin API.
    let dave = s.user_token("dave", &[], &[]);
    s.get("/api/v1/users", &dave).error(403, "forbidden");
    s.post("/api/v1/users", &dave, json!({"username": "mallory"})).error(403, "forbidden");
    s.post("/api/v1/tokens", &dave, json!({"name": "x", "user_id": "usr_someoneelse000"})).error(403, "forbidden");
    // Dave manages his own tokens.
    let own =
        s.post("/api/v1/tokens", &dave, json!({"name": "ci", "scopes": ["dns:read", "dns:list"], "style": "sk_live"}));
    assert_eq!(own.status, 201, "{}", own.text);
    assert_eq!(own.body["scopes"], json!(["dns:list", "dns:read"]));
    assert_eq!(s.get("/api/v1/tokens", &dave).body["tokens"].as_array().map(Vec::len), Some(2));
    s.get("/api/v1/tokens?all=true", &dave).error(403, "forbidden");
    s.post("/api/v1/tokens", &dave, json!({"name": "x", "scopes": ["dns:everything"]})).error(400, "validation_error");

    // Disabling a user stops their (cached) tokens at once; enabling brings them back.
    assert_eq!(s.send("PATCH", &format!("/api/v1/users/{uid}"), admin, json!({"disabled": true})).status, 200);
    s.get("/api/v1/dns-zones/", &dave).error(401, "unauthorized");
    assert_eq!(s.send("PATCH", &format!("/api/v1/users/{uid}"), admin, json!({"disabled": false})).status, 200);
    assert_eq!(s.get("/api/v1/dns-zones/", &dave).status, 200);
    let me = s.get("/api/v1/users", admin).body["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "admin")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.send("PATCH", &format!("/api/v1/users/{me}"), admin, json!({"admin": false})).error(409, "conflict");
    assert_eq!(s.delete(&format!("/api/v1/users/{uid}"), admin).status, 204);
    s.get("/api/v1/dns-zones/", &dave).error(401, "unauthorized");
    s.get(&format!("/api/v1/users/{uid}"), admin).error(404, "not_found");
}

#[test]
fn me_says_who_the_token_is() {
    let s = Server::start();
    let t = s.user_token("frank", &["dns:read"], &["example.com"]);
    let me = s.get("/api/v1/me", &t);
    assert_eq!((me.body["username"].as_str(), me.body["admin"].as_bool()), (Some("frank"), Some(false)));
    assert_eq!((me.body["scopes"].clone(), me.body["zones"].clone()), (json!(["dns:read"]), json!(["example.com"])));
    s.request("GET", "/api/v1/me", None, None).error(401, "unauthorized");
}
