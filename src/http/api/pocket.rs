//! The PocketDNS dialect (seed 000): `/api/v1/domains/{domain_id}/dns…`, bulk and templates.
//! Fields `id, type, name, content, ttl, priority`; default TTL 300; SRV content carries its
//! priority in front.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{ApiResult, Dialect, blocking, from_value, parse_json};
use crate::domain::record::{Record, RecordInput};
use crate::domain::zone::Zone;
use crate::domain::{ValidationError, iso8601};
use crate::http::auth::Caller;
use crate::service::{RecordChange, Service};

const DEFAULT_TTL: u32 = 300;
const MAX_BULK: usize = 1000;

#[derive(Serialize)]
pub struct RecordView {
    id: String,
    #[serde(rename = "type")]
    rtype: &'static str,
    name: String,
    content: String,
    ttl: u32,
    priority: Option<u16>,
    created_at: String,
    updated_at: String,
}

fn record_view(r: Record) -> RecordView {
    RecordView {
        content: r.data.content_with_priority(),
        id: r.id,
        rtype: r.data.rtype.as_str(),
        name: r.data.name,
        ttl: r.data.ttl,
        priority: r.data.priority,
        created_at: iso8601(r.created_at),
        updated_at: iso8601(r.updated_at),
    }
}

fn domain_view(z: &Zone) -> Value {
    json!({
        "id": z.id,
        "domain": z.domain,
        "record_count": z.record_count,
        "serial": z.serial,
        "created_at": iso8601(z.created_at),
        "updated_at": iso8601(z.updated_at),
    })
}

/// A record as PocketDNS clients send it (create, bulk item, or the fields of an update).
#[derive(Deserialize, Default)]
struct RecordBody {
    #[serde(rename = "type")]
    rtype: Option<String>,
    name: Option<String>,
    content: Option<String>,
    ttl: Option<i64>,
    priority: Option<i64>,
}

impl From<RecordBody> for RecordInput {
    fn from(b: RecordBody) -> Self {
        RecordInput { rtype: b.rtype, name: b.name, content: b.content, ttl: b.ttl, priority: b.priority }
    }
}

pub async fn list_domains(svc: web::Data<Service>, caller: Caller) -> ApiResult {
    let zones = blocking(move || svc.list_zones(&caller, None)).await?;
    let total = zones.len();
    Ok(HttpResponse::Ok().json(json!({"domains": zones.iter().map(domain_view).collect::<Vec<_>>(), "total": total})))
}

pub async fn get_domain(svc: web::Data<Service>, caller: Caller, path: web::Path<String>) -> ApiResult {
    let (zone, _) = blocking(move || svc.get_zone(&caller, &path)).await?;
    Ok(HttpResponse::Ok().json(domain_view(&zone)))
}

pub async fn list_records(svc: web::Data<Service>, caller: Caller, path: web::Path<String>) -> ApiResult {
    let (_, records) = blocking(move || svc.get_zone(&caller, &path)).await?;
    #[derive(Serialize)]
    struct Listing {
        records: Vec<RecordView>,
        total: usize,
    }
    let total = records.len();
    Ok(HttpResponse::Ok().json(Listing { records: records.into_iter().map(record_view).collect(), total }))
}

pub async fn create_record(
    svc: web::Data<Service>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult {
    let input: RecordInput = parse_json::<RecordBody>(&body, Dialect::Pocket)?.into();
    let record = blocking(move || svc.create_record(&caller, &path, &input, DEFAULT_TTL)).await?;
    Ok(HttpResponse::Created().json(record_view(record)))
}

pub async fn update_record(
    svc: web::Data<Service>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> ApiResult {
    let b: RecordBody = parse_json(&body, Dialect::Pocket)?;
    let change = RecordChange {
        replace: false,
        rtype: b.rtype,
        name: b.name,
        content: b.content,
        ttl: b.ttl,
        priority: b.priority,
    };
    let (zone_id, record_id) = path.into_inner();
    let record = blocking(move || svc.update_record(&caller, Some(&zone_id), &record_id, change, DEFAULT_TTL)).await?;
    Ok(HttpResponse::Ok().json(record_view(record)))
}

pub async fn delete_record(svc: web::Data<Service>, caller: Caller, path: web::Path<(String, String)>) -> ApiResult {
    let (zone_id, record_id) = path.into_inner();
    blocking(move || svc.delete_record(&caller, Some(&zone_id), &record_id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
struct BulkBody {
    records: Vec<Value>,
}

/// Each record is validated and created on its own; the answer lists both outcomes.
pub async fn bulk(svc: web::Data<Service>, caller: Caller, path: web::Path<String>, body: web::Bytes) -> ApiResult {
    let BulkBody { records } = parse_json(&body, Dialect::Pocket)?;
    if records.len() > MAX_BULK {
        return Err(ValidationError::new("records", format!("At most {MAX_BULK} records per bulk request")).into());
    }
    let mut inputs = Vec::new();
    let mut malformed = Vec::new();
    for raw in records {
        match from_value::<RecordBody>(raw.clone(), Dialect::Pocket) {
            Ok(body) => inputs.push((raw, body.into())),
            Err(e) => malformed.push(json!({"record": raw, "error": e.message})),
        }
    }
    let (created, errors) = blocking(move || svc.bulk_create(&caller, &path, inputs, DEFAULT_TTL)).await?;
    let errors: Vec<Value> = malformed
        .into_iter()
        .chain(errors.into_iter().map(|e| json!({"record": e.record, "error": e.error.message})))
        .collect();
    let mut response = if created.is_empty() { HttpResponse::Ok() } else { HttpResponse::Created() };
    let created: Vec<RecordView> = created.into_iter().map(record_view).collect();
    Ok(response.json(json!({"created": created, "errors": errors})))
}

#[derive(Deserialize)]
struct TemplateBody {
    template_id: Option<String>,
    #[serde(default)]
    variables: HashMap<String, String>,
}

pub async fn apply_template(
    svc: web::Data<Service>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult {
    let TemplateBody { template_id, variables } = parse_json(&body, Dialect::Pocket)?;
    let template_id =
        template_id.ok_or_else(|| ValidationError::new("template_id", "The field 'template_id' is required"))?;
    let id = template_id.clone();
    let created = blocking(move || svc.apply_template(&caller, &path, &id, &variables, DEFAULT_TTL)).await?;
    let created: Vec<RecordView> = created.into_iter().map(record_view).collect();
    Ok(HttpResponse::Created().json(json!({"template_id": template_id, "records_created": created})))
}

pub async fn list_templates(svc: web::Data<Service>, _caller: Caller) -> ApiResult {
    Ok(HttpResponse::Ok().json(json!({"templates": svc.templates()})))
}
