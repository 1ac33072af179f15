//! The PocketDNS dialect (seed 000): `/api/v1/domains/{domain_id}/dns…`, bulk and templates.
//! Fields `id, type, name, content, ttl, priority`; default TTL 300; SRV content carries its
//! priority in front.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ApiResult, Dialect, Errors, blocking, from_value, parse_json, small_call};
use crate::domain::record::{Record, RecordInput, RecordType};
use crate::domain::zone::Zone;
use crate::domain::{ValidationError, iso8601};
use crate::http::auth::Caller;
use crate::service::{RecordChange, Service};

const DEFAULT_TTL: u32 = 300;
const MAX_BULK: usize = 1000;

/// A record as PocketDNS shows it; SRV content carries its priority in front.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = PocketRecord)]
pub struct RecordView {
    id: String,
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    rtype: RecordType,
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
        rtype: r.data.rtype,
        name: r.data.name,
        ttl: r.data.ttl,
        priority: r.data.priority,
        created_at: iso8601(r.created_at),
        updated_at: iso8601(r.updated_at),
    }
}

/// A zone as the PocketDNS dialect lists it; `id` is the `domain_id` of its paths.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DomainView {
    id: String,
    domain: String,
    record_count: u64,
    serial: u32,
    created_at: String,
    updated_at: String,
}

fn domain_view(z: Zone) -> DomainView {
    DomainView {
        id: z.id,
        domain: z.domain,
        record_count: z.record_count,
        serial: z.serial,
        created_at: iso8601(z.created_at),
        updated_at: iso8601(z.updated_at),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DomainList {
    domains: Vec<DomainView>,
    total: usize,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RecordList {
    records: Vec<RecordView>,
    total: usize,
}

/// `{domain_id}` of a zone's paths.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // Only described: the handlers take the ids as plain path segments.
struct DomainPath {
    /// The zone id (dom_…), also VPS.org's zone uuid.
    domain_id: String,
}

/// `{domain_id}` and `{record_id}` of a record's paths.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct RecordPath {
    /// The zone id (dom_…), also VPS.org's zone uuid.
    domain_id: String,
    /// The record id (rec_…), the same in both dialects.
    record_id: String,
}

/// A record as PocketDNS clients send it (create, bulk item, or the fields of an update).
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[schema(as = PocketRecordBody, example = json!({"type": "A", "name": "www", "content": "192.0.2.10", "ttl": 300}))]
struct RecordBody {
    /// A, AAAA, CNAME, MX, TXT, SRV, NS, CAA or PTR.
    #[serde(rename = "type")]
    #[schema(rename = "type")]
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

#[utoipa::path(
    get, path = "/api/v1/domains", tag = "PocketDNS records", operation_id = "pocket_list_domains",
    summary = "The caller's zones",
    responses((status = 200, description = "The zones", body = DomainList), Errors)
)]
pub async fn list_domains(svc: web::Data<Service>, caller: Caller) -> ApiResult {
    let zones = blocking(move || svc.list_zones(&caller, None)).await?;
    let total = zones.len();
    Ok(HttpResponse::Ok().json(DomainList { domains: zones.into_iter().map(domain_view).collect(), total }))
}

#[utoipa::path(
    get, path = "/api/v1/domains/{domain_id}", tag = "PocketDNS records", operation_id = "pocket_get_domain",
    summary = "One zone", params(DomainPath),
    responses((status = 200, description = "The zone", body = DomainView), Errors)
)]
pub async fn get_domain(svc: web::Data<Service>, caller: Caller, path: web::Path<String>) -> ApiResult {
    let (zone, _) = blocking(move || svc.get_zone(&caller, &path)).await?;
    Ok(HttpResponse::Ok().json(domain_view(zone)))
}

#[utoipa::path(
    get, path = "/api/v1/domains/{domain_id}/dns", tag = "PocketDNS records", operation_id = "pocket_list_records",
    summary = "A zone's records", params(DomainPath),
    responses((status = 200, description = "The records and their number", body = RecordList), Errors)
)]
pub async fn list_records(svc: web::Data<Service>, caller: Caller, path: web::Path<String>) -> ApiResult {
    let (_, records) = blocking(move || svc.get_zone(&caller, &path)).await?;
    let total = records.len();
    Ok(HttpResponse::Ok().json(RecordList { records: records.into_iter().map(record_view).collect(), total }))
}

#[utoipa::path(
    post, path = "/api/v1/domains/{domain_id}/dns", tag = "PocketDNS records", operation_id = "pocket_create_record",
    summary = "Create a record", description = "Default TTL 300. MX and SRV need `priority`; SRV content may carry it in front (`priority weight port target`).",
    params(DomainPath), request_body = RecordBody,
    responses(
        (status = 201, description = "The new record", body = RecordView),
        (status = 422, description = "A body of the wrong shape (`unprocessable_entity`)", body = super::ErrorBody),
        Errors,
    )
)]
pub async fn create_record(
    svc: web::Data<Service>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult {
    let input: RecordInput = parse_json::<RecordBody>(&body, Dialect::Pocket)?.into();
    let record = small_call(move || svc.create_record(&caller, &path, &input, DEFAULT_TTL)).await?;
    Ok(HttpResponse::Created().json(record_view(record)))
}

#[utoipa::path(
    put, path = "/api/v1/domains/{domain_id}/dns/{record_id}", tag = "PocketDNS records", operation_id = "pocket_update_record",
    summary = "Change the fields given", params(RecordPath),
    request_body(content = RecordBody, example = json!({"content": "192.0.2.11", "ttl": 600})),
    responses((status = 200, description = "The record", body = RecordView), Errors)
)]
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
    let record =
        small_call(move || svc.update_record(&caller, Some(&zone_id), &record_id, change, DEFAULT_TTL)).await?;
    Ok(HttpResponse::Ok().json(record_view(record)))
}

#[utoipa::path(
    delete, path = "/api/v1/domains/{domain_id}/dns/{record_id}", tag = "PocketDNS records", operation_id = "pocket_delete_record",
    summary = "Delete a record", params(RecordPath),
    responses((status = 204, description = "Deleted"), Errors)
)]
pub async fn delete_record(svc: web::Data<Service>, caller: Caller, path: web::Path<(String, String)>) -> ApiResult {
    let (zone_id, record_id) = path.into_inner();
    small_call(move || svc.delete_record(&caller, Some(&zone_id), &record_id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"records": [
    {"type": "A", "name": "app", "content": "192.0.2.20"},
    {"type": "MX", "name": "@", "content": "mail.example.com"}
]}))]
struct BulkBody {
    /// Up to 1000 records, each shaped as a single create's body.
    #[schema(value_type = Vec<RecordBody>)]
    records: Vec<Value>,
}

/// Both outcomes of a bulk request.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BulkResult {
    created: Vec<RecordView>,
    errors: Vec<BulkError>,
}

/// A record of the request that was not created, and why.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BulkError {
    #[schema(value_type = Object)]
    record: Value,
    error: String,
}

/// Each record is validated and created on its own; the answer lists both outcomes.
#[utoipa::path(
    post, path = "/api/v1/domains/{domain_id}/dns/bulk", tag = "PocketDNS records", operation_id = "pocket_bulk",
    summary = "Create many records, each on its own", params(DomainPath), request_body = BulkBody,
    responses(
        (status = 201, description = "At least one record was created; `errors` lists the others", body = BulkResult),
        (status = 200, description = "No record was created; `errors` says why", body = BulkResult),
        Errors,
    )
)]
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
            Err(e) => malformed.push(BulkError { record: raw, error: e.message }),
        }
    }
    let (created, errors) = blocking(move || svc.bulk_create(&caller, &path, inputs, DEFAULT_TTL)).await?;
    let errors = malformed
        .into_iter()
        .chain(errors.into_iter().map(|e| BulkError { record: e.record, error: e.error.message }))
        .collect();
    let mut response = if created.is_empty() { HttpResponse::Ok() } else { HttpResponse::Created() };
    Ok(response.json(BulkResult { created: created.into_iter().map(record_view).collect(), errors }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"template_id": "tpl_website_basic", "variables": {"ip_address": "192.0.2.10"}}))]
struct TemplateBody {
    /// One of `GET /api/v1/templates`.
    template_id: Option<String>,
    #[serde(default)]
    variables: HashMap<String, String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TemplateResult {
    template_id: String,
    records_created: Vec<RecordView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TemplateList<'a> {
    templates: &'a [crate::service::templates::Template],
}

#[utoipa::path(
    post, path = "/api/v1/domains/{domain_id}/dns/template", tag = "PocketDNS records", operation_id = "pocket_apply_template",
    summary = "Apply a record template", params(DomainPath), request_body = TemplateBody,
    responses((status = 201, description = "The records created", body = TemplateResult), Errors)
)]
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
    let records_created = created.into_iter().map(record_view).collect();
    Ok(HttpResponse::Created().json(TemplateResult { template_id, records_created }))
}

#[utoipa::path(
    get, path = "/api/v1/templates", tag = "PocketDNS records", operation_id = "pocket_list_templates",
    summary = "Record templates and their variables",
    responses((status = 200, description = "The templates", body = TemplateList), Errors)
)]
pub async fn list_templates(svc: web::Data<Service>, _caller: Caller) -> ApiResult {
    Ok(HttpResponse::Ok().json(TemplateList { templates: svc.templates() }))
}
