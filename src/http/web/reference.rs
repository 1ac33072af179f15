//! The API reference page: the OpenAPI document served at /api/openapi.json, rendered for
//! people. It reads only the document, so the page cannot say anything the document does not.

use maud::{Markup, html};
use serde_json::Value;

use super::views::page;
use super::{Viewer, WebResult, html as respond};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

pub async fn page_handler(viewer: Viewer) -> WebResult {
    let document = serde_json::to_value(crate::http::api::openapi::document()).unwrap_or_default();
    Ok(respond(page("API reference", Some(&viewer), "API", render(&document))))
}

fn render(doc: &Value) -> Markup {
    let operations = operations(doc);
    let tags: Vec<(&str, &Value)> = doc["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| Some((t["name"].as_str()?, &t["description"])))
        .collect();
    html! {
        h1 { "API reference" }
        section.card {
            p { (prose(&doc["info"]["description"])) }
            p {
                "Machine-readable: " a href="/api/openapi.json" { code { "/api/openapi.json" } }
                " (OpenAPI " (text(&doc["openapi"])) "). Create a token under "
                a href="/account/developers" { "API tokens" } "."
            }
            nav aria-label="Sections" {
                @for (tag, _) in &tags { a.tag href=(format!("#{}", anchor(tag))) { (tag) } " " }
                a.tag href="#schemas" { "Schemas" }
            }
        }
        @for (tag, description) in &tags {
            section.card id=(anchor(tag)) {
                h2 { (tag) }
                p { (prose(description)) }
                @for op in operations.iter().filter(|op| op.tag == *tag) { (operation(doc, op)) }
            }
        }
        section.card #schemas {
            h2 { "Schemas" }
            @if let Some(schemas) = doc["components"]["schemas"].as_object() {
                @for (name, schema) in schemas { (schema_details(name, schema)) }
            }
        }
    }
}

struct Operation<'a> {
    method: &'static str,
    path: &'a str,
    tag: &'a str,
    spec: &'a Value,
}

/// Operations in path order; the page groups them by their first tag.
fn operations(doc: &Value) -> Vec<Operation<'_>> {
    let mut list = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in METHODS {
            if let Some(spec) = item.get(method) {
                let tag = spec["tags"][0].as_str().unwrap_or("Other");
                list.push(Operation { method, path, tag, spec });
            }
        }
    }
    list
}

fn operation(doc: &Value, op: &Operation) -> Markup {
    let spec = op.spec;
    html! {
        details.operation {
            summary {
                span.tag { (op.method.to_uppercase()) } " " code { (op.path) } " — " (prose(&spec["summary"]))
            }
            @if spec["description"].is_string() { p { (prose(&spec["description"])) } }
            @if let Some(params) = spec["parameters"].as_array() {
                div.table-wrap { table {
                    thead { tr { th { "Parameter" } th { "In" } th { "Type" } th { "Description" } } }
                    tbody { @for p in params { tr {
                        td { code { (text(&p["name"])) } @if p["required"] == true { " *" } }
                        td { (text(&p["in"])) }
                        td { (type_name(&p["schema"])) }
                        td { (prose(&p["description"])) }
                    } } }
                } }
            }
            @if let Some(content) = spec["requestBody"]["content"].as_object() {
                @for (media, body) in content {
                    h4 { "Request body " code { (media) } " " (type_name(&body["schema"])) }
                    @if let Some(example) = example(doc, body) { pre { code { (example) } } }
                }
            }
            h4 { "Responses" }
            ul { @for (status, response) in spec["responses"].as_object().into_iter().flatten() {
                li {
                    strong { (status) } " " (prose(&response["description"]))
                    @for (media, body) in response["content"].as_object().into_iter().flatten() {
                        " · " code { (media) } " " (type_name(&body["schema"]))
                    }
                }
            } }
        }
    }
}

fn schema_details(name: &str, schema: &Value) -> Markup {
    let required: Vec<&str> = schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    html! {
        details id=(format!("schema-{name}")) {
            summary { code { (name) } " " (prose(&schema["description"])) }
            @if let Some(values) = schema["enum"].as_array() {
                p { "One of: " @for v in values { code { (text(v)) } " " } }
            }
            @if let Some(properties) = schema["properties"].as_object() {
                div.table-wrap { table {
                    thead { tr { th { "Field" } th { "Type" } th { "Description" } } }
                    tbody { @for (field, spec) in properties { tr {
                        td { code { (field) } @if required.contains(&field.as_str()) { " *" } }
                        td { (type_name(spec)) }
                        td { (prose(&spec["description"])) }
                    } } }
                } }
            }
            @if let Some(example) = schema.get("example") { pre { code { (pretty(example)) } } }
        }
    }
}

/// A readable type: `string`, `integer | null`, `array of VpsRecord`, a link to a schema.
fn type_name(schema: &Value) -> Markup {
    if let Some(target) = schema["$ref"].as_str() {
        let name = target.rsplit('/').next().unwrap_or(target);
        return html! { a href=(format!("#schema-{name}")) { (name) } };
    }
    if let Some(choices) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        return html! { @for (i, c) in choices.iter().enumerate() { @if i > 0 { " | " } (type_name(c)) } };
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    html! {
        @for (i, t) in types.iter().enumerate() {
            @if i > 0 { " | " }
            @if *t == "array" { "array of " (type_name(&schema["items"])) } @else { (t) }
        }
    }
}

/// The example of a request body: its own, or its schema's.
fn example(doc: &Value, body: &Value) -> Option<String> {
    let schema = &body["schema"];
    let resolved = schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
        .map_or(schema, |name| &doc["components"]["schemas"][name]);
    let example = body.get("example").or_else(|| resolved.get("example"))?;
    Some(example.as_str().map_or_else(|| pretty(example), str::to_string))
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A description with its `code spans` set as code (the only Markdown the document uses).
fn prose(value: &Value) -> Markup {
    let text = text(value);
    html! {
        @for (i, part) in text.split('`').enumerate() {
            @if i % 2 == 1 { code { (part) } } @else { (part) }
        }
    }
}

fn anchor(tag: &str) -> String {
    tag.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect()
}
