//! The VPS.org dialect (seed 003): `/api/v1/dns-zones/…` and `/api/v1/dns-records/…`.
//! Fields `uuid, record_type, name, value, ttl, priority`; default TTL 3600; plain JSON lists.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::{ApiResult, Dialect, Errors, PageQuery, blocking, parse_json, small_call};
use crate::domain::iso8601;
use crate::domain::record::{Record, RecordInput, RecordType};
use crate::domain::zone::{Zone, ZoneSettings};
use crate::http::auth::Caller;
use crate::service::{ImportMode, RecordChange, Service};

const DEFAULT_TTL: u32 = 3600;

/// A zone (seed 003's fields plus nsbox's serial, SOA timers and transfer settings).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = VpsZone)]
pub struct ZoneView {
    uuid: String,
    domain: String,
    created_at: String,
    record_count: u64,
    serial: u32,
    refresh: u32,
    retry: u32,
    expire: u32,
    minimum: u32,
    allow_transfer: Vec<String>,
    notify: Vec<String>,
    /// The zone's group in the catalog zone (RFC 9432), if any.
    catalog_group: Option<String>,
    /// Present on create and on the zone's own page.
    #[serde(skip_serializing_if = "Option::is_none")]
    records: Option<Vec<RecordView>>,
}

/// A record as VPS.org shows it; `uuid` is the same id the PocketDNS dialect calls `id`.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = VpsRecord)]
pub struct RecordView {
    uuid: String,
    zone: String,
    record_type: RecordType,
    name: String,
    value: String,
    ttl: u32,
    priority: Option<u16>,
    created_at: String,
}

fn zone_view(zone: Zone, records: Option<Vec<Record>>) -> ZoneView {
    ZoneView {
        uuid: zone.id,
        domain: zone.domain,
        created_at: iso8601(zone.created_at),
        record_count: zone.record_count,
        serial: zone.serial,
        refresh: zone.soa.refresh,
        retry: zone.soa.retry,
        expire: zone.soa.expire,
        minimum: zone.soa.minimum,
        allow_transfer: zone.allow_transfer.iter().map(ToString::to_string).collect(),
        notify: zone.notify.iter().map(ToString::to_string).collect(),
        catalog_group: zone.catalog_group,
        records: records.map(|rs| rs.into_iter().map(record_view).collect()),
    }
}

fn record_view(r: Record) -> RecordView {
    RecordView {
        uuid: r.id,
        zone: r.zone_id,
        record_type: r.data.rtype,
        name: r.data.name,
        value: r.data.content,
        ttl: r.data.ttl,
        priority: r.data.priority,
        created_at: iso8601(r.created_at),
    }
}

/// `{uuid}` of a zone's paths.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // Only described: the handlers take the id as a plain path segment.
pub(super) struct ZonePath {
    /// The zone id (dom_…), also PocketDNS's domain_id.
    uuid: String,
}

/// `{uuid}` of a record's paths.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct RecordPath {
    /// The record id (rec_…), the same in both dialects.
    uuid: String,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ZoneFilter {
    /// Only the zone of this domain.
    domain: Option<String>,
    #[serde(flatten)]
    #[param(ignore)] // Documented on its own: PageQuery.
    page: PageQuery,
}

#[utoipa::path(
    get, path = "/api/v1/dns-zones", tag = "VPS.org zones and records", operation_id = "vps_list_zones",
    summary = "STENDIN the caller's zones",
    params(ZoneFilter, PageQuery),
    responses((status = 200, description = "The zones, without their records", body = [ZoneView]), Errors)
)]
pub async fn list_zones(
    svc: web::Data<Service>,
    caller: Caller,
    query: web::Query<ZoneFilter>,
    req: HttpRequest,
) -> ApiResult {
    let ZoneFilter { domain, page } = query.into_inner();
    let zones = blocking(move || svc.list_zones(&caller, domain.as_deref())).await?;
    page.respond(&req, zones.into_iter().map(|z| zone_view(z, None)).collect())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = VpsNewZone, example = json!({"domain": "example.com"}))]
struct NewZone {
    domain: Option<String>,
}

#[utoipa::path(
    post, path = "/api/v1/dns-zones", tag = "VPS.org zones and records", operation_id = "vps_create_zone",
    summary = "KOZ a zone",
    description = "A JSON body creates an empty zone. A BIND master file (`Content-Type: text/dns`) creates the zone with its records in one call; the domain comes from `?domain=` or `$ORIGIN`.",
    request_body(content(
        (NewZone = "application/json"),
        (String = "text/dns", example = "$ORIGIN files.example.\n$TTL 3600\nwww IN A 192.0.2.10\n"),
    )),
    responses((status = 201, description = "The new zone", body = ZoneView), Errors)
)]
pub async fn create_zone(svc: web::Data<Service>, caller: Caller, req: HttpRequest, body: web::Bytes) -> ApiResult {
    let is_zone_file = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/dns") || t.starts_with("text/plain"));
    if is_zone_file {
        return create_zone_from_file(svc, caller, &req, &body).await;
    }
    let NewZone { domain } = parse_json(&body, Dialect::Vps)?;
    let domain =
        domain.ok_or_else(|| crate::domain::ValidationError::new("domain", "The field 'domain' is required"))?;
    let zone = small_call(move || svc.create_zone(&caller, &domain)).await?;
    Ok(HttpResponse::Created().json(zone_view(zone, Some(Vec::new()))))
}

/// A zone and its records from a BIND master file in one call: the domain comes from
/// `?domain=` or the file's `$ORIGIN`; the file is imported whole or the zone is not created.
async fn create_zone_from_file(svc: web::Data<Service>, caller: Caller, req: &HttpRequest, body: &[u8]) -> ApiResult {
    let invalid = |field: &str, message: &str| crate::domain::ValidationError::new(field, message);
    let text = String::from_utf8(body.to_vec()).map_err(|_| invalid("body", "The zone file is not UTF-8 text"))?;
    let query: std::collections::HashMap<String, String> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let origin =
        text.lines().find_map(|l| l.trim().strip_prefix("$ORIGIN").map(|o| o.trim().trim_end_matches('.').to_string()));
    let domain =
        query.get("domain").cloned().or(origin).ok_or_else(|| invalid("domain", "Give ?domain= or a $ORIGIN line"))?;
    let zone = blocking(move || {
        let zone = svc.create_zone(&caller, &domain)?;
        let report = svc.import_zone(&caller, &zone.id, &text, ImportMode::Replace, false)?;
        if !report.applied {
            svc.delete_zone(&caller, &zone.id)?;
            let first = report.refused.first().map(|r| format!("line {}: {}", r.line, r.reason)).unwrap_or_default();
            return Err(crate::domain::ValidationError::new(
                "body",
                format!("The zone file has {} refused lines ({first}); no zone was created", report.refused.len()),
            )
            .into());
        }
        svc.get_zone(&caller, &zone.id).map(|(zone, _)| zone)
    })
    .await?;
    Ok(HttpResponse::Created().json(zone_view(zone, None)))
}

#[utoipa::path(
    get, path = "/api/v1/dns-zones/{uuid}", tag = "VPS.org zones and records", operation_id = "vps_get_zone",
    summary = "STENDIN a zone with its records", params(ZonePath),
    responses((status = 200, description = "The zone and its records", body = ZoneView), Errors)
)]
pub async fn get_zone(svc: web::Data<Service>, caller: Caller, path: web::Path<String>) -> ApiResult {
    let (zone, records) = blocking(move || svc.get_zone(&caller, &path)).await?;
    Ok(HttpResponse::Ok().json(zone_view(zone, Some(records))))
}

/// nsbox's extension: SOA timers and per-zone transfer settings.
#[utoipa::path(
    patch, path = "/api/v1/dns-zones/{uuid}", tag = "VPS.org zones and records", operation_id = "vps_update_zone",
    summary = "Change a zone's SOA timers and transfer settings (nsbox)", params(ZonePath),
    request_body = crate::domain::zone::ZoneSettings,
    responses((status = 200, description = "The changed zone", body = ZoneView), Errors)
)]
pub async fn update_zone(
    svc: web::Data<Service>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult {
    let settings: ZoneSettings = parse_json(&body, Dialect::Vps)?;
    let zone = blocking(move || svc.update_zone_settings(&caller, &path, &settings)).await?;
    Ok(HttpResponse::Ok().json(zone_view(zone, None)))
}

#[utoipa::path(
    delete, path = "/api/v1/dns-zones/{uuid}", tag = "VPS.org zones and records", operation_id = "vps_delete_zone",
    summary = "JÊBIRIN a zone and all its records", params(ZonePath),
    responses((status = 204, description = "Deleted"), Errors)
)]
pub async fn delete_zone(svc: web::Data<Service>, caller: Caller, path: web::Path<String>) -> ApiResult {
    blocking(move || svc.delete_zone(&caller, &path)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    get, path = "/api/v1/dns-zones/{uuid}/records", tag = "VPS.org zones and records", operation_id = "vps_zone_records",
    summary = "STENDIN a zone's records", params(ZonePath, PageQuery),
    responses((status = 200, description = "The zone's records", body = [RecordView]), Errors)
)]
pub async fn zone_records(
    svc: web::Data<Service>,
    caller: Caller,
    path: web::Path<String>,
    page: web::Query<PageQuery>,
    req: HttpRequest,
) -> ApiResult {
    let (_, records) = blocking(move || svc.get_zone(&caller, &path)).await?;
    page.respond(&req, records.into_iter().map(record_view).collect())
}

/// A record as VPS.org clients send it.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[schema(as = VpsRecordBody, example = json!({"record_type": "MX", "name": "@", "value": "mail.example.com", "ttl": 3600, "priority": 10}))]
struct RecordBody {
    /// A, AAAA, CNAME, MX, TXT, SRV, NS, CAA or PTR.
    record_type: Option<String>,
    name: Option<String>,
    value: Option<String>,
    ttl: Option<i64>,
    priority: Option<i64>,
}

impl RecordBody {
    fn into_change(self, replace: bool) -> RecordChange {
        RecordChange {
            replace,
            rtype: self.record_type,
            name: self.name,
            content: self.value,
            ttl: self.ttl,
            priority: self.priority,
        }
    }
}

/// VPS.org names the fields differently, and words the missing priority its own way
/// (seed 003: "MX records require a priority value"); errors follow its document.
fn vps_field(mut e: crate::domain::ValidationError) -> crate::domain::ValidationError {
    e.field = e.field.map(|f| match f.as_str() {
        "type" => "record_type".to_string(),
        "content" => "value".to_string(),
        _ => f,
    });
    if let Some(rtype) = e.message.strip_prefix("Priority is required for ").and_then(|m| m.strip_suffix(" records")) {
        e.message = format!("{rtype} records require a priority value");
    }
    e
}

fn vps_error(e: crate::service::Error) -> crate::service::Error {
    match e {
        crate::service::Error::Validation(v) => crate::service::Error::Validation(vps_field(v)),
        other => other,
    }
}

#[utoipa::path(
    post, path = "/api/v1/dns-zones/{uuid}/records", tag = "VPS.org zones and records", operation_id = "vps_create_record",
    summary = "KOZ a record", description = "Default TTL 3600. MX and SRV need `priority`; SRV's value is `weight port target`.",
    params(ZonePath), request_body = RecordBody,
    responses((status = 201, description = "The new record", body = RecordView), Errors)
)]
pub async fn create_record(
    svc: web::Data<Service>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult {
    let body: RecordBody = parse_json(&body, Dialect::Vps)?;
    let input = RecordInput {
        rtype: body.record_type,
        name: body.name,
        content: body.value,
        ttl: body.ttl,
        priority: body.priority,
    };
    let record = small_call(move || svc.create_record(&caller, &path, &input, DEFAULT_TTL).map_err(vps_error)).await?;
    Ok(HttpResponse::Created().json(record_view(record)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecordFilter {
    /// Only records of this zone (its uuid).
    zone: Option<String>,
    /// Only records of this type.
    record_type: Option<String>,
    #[serde(flatten)]
    #[param(ignore)] // Documented on its own: PageQuery.
    page: PageQuery,
}

#[utoipa::path(
    get, path = "/api/v1/dns-records", tag = "VPS.org zones and records", operation_id = "vps_list_records",
    summary = "STENDIN records across the caller's zones", params(RecordFilter, PageQuery),
    responses((status = 200, description = "The records", body = [RecordView]), Errors)
)]
pub async fn list_records(
    svc: web::Data<Service>,
    caller: Caller,
    query: web::Query<RecordFilter>,
    req: HttpRequest,
) -> ApiResult {
    let RecordFilter { zone, record_type, page } = query.into_inner();
    let rtype = record_type.map(|t| t.parse::<RecordType>().map_err(vps_field)).transpose()?;
    let records = blocking(move || svc.search_records(&caller, zone.as_deref(), rtype)).await?;
    page.respond(&req, records.into_iter().map(record_view).collect())
}

#[utoipa::path(
    get, path = "/api/v1/dns-records/{uuid}", tag = "VPS.org zones and records", operation_id = "vps_get_record",
    summary = "STENDIN a record", params(RecordPath),
    responses((status = 200, description = "The record", body = RecordView), Errors)
)]
pub async fn get_record(svc: web::Data<Service>, caller: Caller, path: web::Path<String>) -> ApiResult {
    let record = small_call(move || svc.get_record(&caller, &path)).await?;
    Ok(HttpResponse::Ok().json(record_view(record)))
}

/// PUT replaces the record with the fields given; PATCH changes only those.
async fn update(svc: web::Data<Service>, caller: Caller, id: String, body: web::Bytes, replace: bool) -> ApiResult {
    let change = parse_json::<RecordBody>(&body, Dialect::Vps)?.into_change(replace);
    let record =
        small_call(move || svc.update_record(&caller, None, &id, change, DEFAULT_TTL).map_err(vps_error)).await?;
    Ok(HttpResponse::Ok().json(record_view(record)))
}

#[utoipa::path(
    put, path = "/api/v1/dns-records/{uuid}", tag = "VPS.org zones and records", operation_id = "vps_put_record",
    summary = "Replace a record", description = "Fields left out take their defaults (TTL 3600, no priority).",
    params(RecordPath), request_body = RecordBody,
    responses((status = 200, description = "The record", body = RecordView), Errors)
)]
pub async fn put_record(
    svc: web::Data<Service>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult {
    update(svc, caller, path.into_inner(), body, true).await
}

#[utoipa::path(
    patch, path = "/api/v1/dns-records/{uuid}", tag = "VPS.org zones and records", operation_id = "vps_patch_record",
    summary = "Change some fields of a record", params(RecordPath),
    request_body(content = RecordBody, example = json!({"ttl": 600})),
    responses((status = 200, description = "The record", body = RecordView), Errors)
)]
pub async fn patch_record(
    svc: web::Data<Service>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult {
    update(svc, caller, path.into_inner(), body, false).await
}

#[utoipa::path(
    delete, path = "/api/v1/dns-records/{uuid}", tag = "VPS.org zones and records", operation_id = "vps_delete_record",
    summary = "JÊBIRIN a record", params(RecordPath),
    responses((status = 204, description = "Deleted"), Errors)
)]
pub async fn delete_record(svc: web::Data<Service>, caller: Caller, path: web::Path<String>) -> ApiResult {
    small_call(move || svc.delete_record(&caller, None, &path)).await?;
    Ok(HttpResponse::NoContent().finish())
}
