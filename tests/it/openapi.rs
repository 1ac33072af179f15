//! The OpenAPI document: valid OpenAPI 3.1 (checked by openapi-spec-validator), the same set of
//! routes as the route table, and every documented example run against the server with the
//! answer checked against the documented schema.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::support::Server;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn document(server: &Server) -> Value {
    let r = server.request("GET", "/api/openapi.json", None, None);
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

#[test]
fn document_is_valid_openapi_3_1() {
    let server = Server::start();
    let doc = document(&server);
    assert_eq!(doc["openapi"], "3.1.0");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = std::process::Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .expect("python3 with openapi-spec-validator (installed by .ci/run)");
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    // Operation ids are unique across the two dialects and the admin API.
    let ids: Vec<String> =
        operations(&doc).into_iter().filter_map(|(_, _, op)| op["operationId"].as_str().map(str::to_string)).collect();
    assert_eq!(ids.len(), ids.iter().collect::<BTreeSet<_>>().len(), "{ids:?}");
}

/// Every `resource("…")` of the API scope in the route table, with its methods, is documented,
/// and nothing else is.
#[test]
fn document_and_route_table_agree() {
    let server = Server::start();
    let doc = document(&server);
    // DynDNS2 lives outside the API scope, at the paths its clients know.
    let documented: BTreeSet<String> = operations(&doc)
        .iter()
        .filter(|(_, path, _)| path.starts_with("/api/v1"))
        .map(|(method, path, _)| format!("{} {path}", method.to_uppercase()))
        .collect();
    assert!(doc["paths"]["/nic/update"]["get"].is_object(), "DynDNS2 is documented");
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/http/mod.rs")).unwrap();
    let scope = source.find("aweb::scope(\"/api/v1\")").expect("the API scope");
    let api = call_text(&source, source[..scope].rfind('(').expect("the call holding the scope"));
    let mut routed = BTreeSet::new();
    let resources: Vec<&str> = api.split("resource(\"").skip(1).collect();
    for chunk in resources {
        let path = format!("/api/v1{}", &chunk[..chunk.find('"').unwrap()]);
        for method in METHODS {
            if chunk.contains(&format!("{method}().to(")) {
                routed.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    assert!(routed.len() > 30, "parsed {routed:?}");
    assert_eq!(documented, routed);
}

/// The text of the call whose opening parenthesis is at `open`, up to the one that closes it.
fn call_text(source: &str, open: usize) -> &str {
    let mut depth = 0;
    for (i, c) in source[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 1 => return &source[open..open + i],
            ')' => depth -= 1,
            _ => {}
        }
    }
    panic!("unbalanced parentheses after byte {open}")
}

/// Each operation runs with its documented request example(s) against fresh objects, answers a
/// documented 2xx status, and its JSON answer matches the documented schema exactly (no field
/// missing, none undocumented).
#[test]
fn every_documented_example_runs() {
    let server = Server::start();
    let doc = document(&server);
    let token = server.admin_token.clone();
    let mut ran = 0;
    // DynDNS2 takes basic auth: its own test runs it.
    let api_operations = operations(&doc).into_iter().filter(|(_, path, _)| path.starts_with("/api/v1"));
    for (n, (method, path, op)) in api_operations.enumerate() {
        let fixture = Fixture::new(&server, n);
        let url = fixture.fill(&path);
        // A rollover needs a signed zone, and confirming one a rollover under way.
        if let Some(base) = url.strip_suffix("/rollover").or_else(|| url.strip_suffix("/confirm-ds")) {
            server.request("POST", base, Some(&token), None);
            if url.ends_with("/confirm-ds") {
                server.request("POST", &format!("{base}/rollover"), Some(&token), None);
            }
        }
        // The PowerDNS examples name example.com. itself: it is there for calls on a zone
        // and gone for the call that creates it.
        if path.starts_with("/api/v1/servers/{server_id}/zones") {
            server.request("DELETE", "/api/v1/servers/localhost/zones/example.com.", Some(&token), None);
            if path.contains("{zone_id}") {
                server.zone(&token, "example.com");
            }
        }
        let bodies: Vec<(String, Option<Vec<u8>>)> = match op["requestBody"]["content"].as_object() {
            None => vec![(String::new(), None)],
            Some(content) => content
                .iter()
                .map(|(media, body)| {
                    let example = example(&doc, body).unwrap_or_else(|| panic!("{method} {path}: no example"));
                    let bytes = example.as_str().map_or_else(|| example.to_string(), str::to_string).into_bytes();
                    (media.clone(), Some(bytes))
                })
                .collect(),
        };
        for (media, body) in bodies {
            let r = server.request_as(
                &method.to_uppercase(),
                &url,
                Some(&token),
                body.as_deref().map(|b| (media.as_str(), b)),
            );
            let documented = &op["responses"][r.status.to_string()];
            assert!(
                (200..300).contains(&r.status) && documented.is_object(),
                "{method} {url} ({media}) answered {}: {}",
                r.status,
                r.text
            );
            if let Some(schema) = documented["content"]["application/json"].get("schema") {
                if let Err(e) = conforms(&doc, schema, &r.body, "$") {
                    panic!("{method} {url}: answer does not match its schema: {e}\n{}", r.text);
                }
            } else if let Some((media, _)) = documented["content"].as_object().and_then(|c| c.iter().next()) {
                let got = r.header("content-type").unwrap_or_default();
                assert!(got.starts_with(media.as_str()), "{method} {url}: {got} is not {media}");
            }
            ran += 1;
        }
    }
    assert!(ran >= 37, "ran {ran} examples");
}

/// The console's reference page shows every documented operation and schema.
#[test]
fn the_console_renders_the_reference() {
    let server = Server::start();
    let doc = document(&server);
    let mut browser = crate::web::Browser::new(&server);
    browser.login("admin", crate::support::ADMIN_PASSWORD);
    let page = browser.get("/api-reference");
    assert_eq!(page.status, 200);
    for (method, path, _) in operations(&doc) {
        let shown = format!("<span class=\"tag\">{}</span> <code>{path}</code>", method.to_uppercase());
        assert!(page.body.contains(&shown), "{shown} is missing");
    }
    for name in doc["components"]["schemas"].as_object().unwrap().keys() {
        assert!(page.body.contains(&format!("id=\"schema-{name}\"")), "schema {name} is missing");
    }
    assert!(page.body.contains("tpl_website_basic"), "request examples are shown");
}

/// (method, path, operation) for every operation in the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut list = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                list.push((method.to_string(), path.clone(), op.clone()));
            }
        }
    }
    list
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
        Some(name) => &doc["components"]["schemas"][name],
        None => schema,
    }
}

fn example<'a>(doc: &'a Value, body: &'a Value) -> Option<&'a Value> {
    body.get("example").or_else(|| resolve(doc, &body["schema"]).get("example"))
}

/// A small JSON Schema check for what utoipa writes: $ref, type (one or several), enum,
/// oneOf/anyOf/allOf, properties with required, and items.
fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(doc, schema);
    if let Some(choices) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        return choices
            .iter()
            .any(|c| conforms(doc, c, value, at).is_ok())
            .then_some(())
            .ok_or(format!("{at}: {value} matches none of {choices:?}"));
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        conforms(doc, part, value, at)?;
    }
    if let Some(values) = schema["enum"].as_array()
        && !values.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {values:?}"));
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return Ok(()),
    };
    let is = |t: &str| match t {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => false,
    };
    if !types.iter().any(|t| is(t)) {
        return Err(format!("{at}: {value} is not {types:?}"));
    }
    if let (Some(object), Some(properties)) = (value.as_object(), schema["properties"].as_object()) {
        for name in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if !object.contains_key(name) {
                return Err(format!("{at}: the required field '{name}' is missing"));
            }
        }
        for (name, field) in object {
            let spec = properties.get(name).ok_or(format!("{at}: the field '{name}' is not documented"))?;
            conforms(doc, spec, field, &format!("{at}.{name}"))?;
        }
    }
    if let Some(items) = value.as_array() {
        for (i, item) in items.iter().enumerate() {
            conforms(doc, &schema["items"], item, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

/// Fresh objects for one operation's path parameters: a zone with a record, a user, a token
/// and a TSIG key, so that no example depends on another's leftovers.
struct Fixture {
    zone: String,
    record: String,
    user: String,
    token: String,
    tsig: String,
}

impl Fixture {
    fn new(server: &Server, n: usize) -> Fixture {
        let admin = &server.admin_token;
        let zone = server.zone(admin, &format!("fixture-{n}.test"));
        let id = |r: crate::support::Resp, field: &str| {
            assert!((200..300).contains(&r.status), "{}", r.text);
            r.body[field].as_str().unwrap().to_string()
        };
        let record = id(
            server.post(
                &format!("/api/v1/dns-zones/{zone}/records"),
                admin,
                json!({"record_type": "A", "name": "fixture", "value": "192.0.2.99"}),
            ),
            "uuid",
        );
        let user = id(server.post("/api/v1/users", admin, json!({"username": format!("fixture-{n}")})), "id");
        let token = id(server.post("/api/v1/tokens", admin, json!({"name": format!("fixture-{n}")})), "id");
        let tsig = id(server.post("/api/v1/tsig-keys", admin, json!({"name": format!("fixture-{n}.key")})), "name");
        Fixture { zone, record, user, token, tsig }
    }

    /// The path with its parameters filled from the fixture.
    fn fill(&self, path: &str) -> String {
        let id = if path.starts_with("/api/v1/dns-records/") {
            &self.record
        } else if path.starts_with("/api/v1/users/") {
            &self.user
        } else if path.starts_with("/api/v1/tokens/") {
            &self.token
        } else {
            &self.zone
        };
        path.replace("{uuid}", id)
            .replace("{domain_id}", &self.zone)
            .replace("{record_id}", &self.record)
            .replace("{id}", id)
            .replace("{name}", &self.tsig)
            .replace("{server_id}", "localhost")
            .replace("{zone_id}", "example.com.")
    }
}
