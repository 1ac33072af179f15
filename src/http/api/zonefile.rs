//! Zone files over the VPS.org paths: export as a BIND master file, import (pasted, or pulled
//! by AXFR from the server that has the zone now) with a dry run first.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::vps::ZonePath;
use super::{ApiResult, Errors, blocking};
use crate::domain::record::RecordType;
use crate::http::auth::Caller;
use crate::service::{ImportMode, Service};

/// The zone as a BIND master file (`text/dns`), as the nameserver serves it.
#[utoipa::path(
    get, path = "/api/v1/dns-zones/{uuid}/export", tag = "VPS.org zones and records", operation_id = "vps_export_zone",
    summary = "The zone as a BIND master file", params(ZonePath),
    responses((status = 200, description = "The zone file, SOA and NS included", body = String, content_type = "text/dns"), Errors)
)]
pub async fn export_zone(svc: web::Data<Service>, caller: Caller, path: web::Path<String>) -> ApiResult {
    let (domain, text) = blocking(move || svc.export_zone(&caller, &path)).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/dns; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{domain}.zone\"")))
        .body(text))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `merge` (default) adds and changes; `replace` also removes what the file lacks.
    mode: Option<String>,
    /// `true` reports what would change and writes nothing.
    #[param(value_type = Option<bool>)]
    dry_run: Option<String>,
    /// `axfr`: pull the zone from `server` instead of taking a body (a migration).
    from: Option<String>,
    /// With `from=axfr`: the server to pull from, `host:port`.
    server: Option<String>,
    /// With `from=axfr`: a TSIG key for the transfer, `NAME:ALGORITHM:BASE64-SECRET`.
    tsig: Option<String>,
}

/// Imports a BIND master file (the request body): `?mode=merge|replace&dry_run=true|false`.
#[utoipa::path(
    post, path = "/api/v1/dns-zones/{uuid}/import", tag = "VPS.org zones and records", operation_id = "vps_import_zone",
    summary = "Import a BIND master file into the zone, or pull the zone from a server by AXFR", params(ZonePath, ImportQuery),
    request_body(content = String, content_type = "text/dns", example = "$ORIGIN example.com.\n$TTL 3600\nftp IN CNAME www\n"),
    responses(
        (status = 200, description = "What was (or, on a dry run, would be) added, changed, removed and refused, by line", body = ImportReport),
        (status = 400, description = "Lines were refused, so nothing was written", body = ImportReport),
        Errors,
    )
)]
pub async fn import_zone(
    svc: web::Data<Service>,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<ImportQuery>,
    body: web::Bytes,
) -> ApiResult {
    let invalid = |field: &str, message: &str| crate::domain::ValidationError::new(field, message);
    let mode = match query.mode.as_deref().unwrap_or("merge") {
        "merge" => ImportMode::Merge,
        "replace" => ImportMode::Replace,
        _ => return Err(invalid("mode", "mode is merge or replace").into()),
    };
    let dry_run = match query.dry_run.as_deref().unwrap_or("false") {
        "true" | "1" => true,
        "false" | "0" => false,
        _ => return Err(invalid("dry_run", "dry_run is true or false").into()),
    };
    let text = match query.from.as_deref() {
        None => String::from_utf8(body.to_vec()).map_err(|_| invalid("body", "The zone file is not UTF-8 text"))?,
        Some("axfr") => {
            let server = query.server.clone().ok_or_else(|| invalid("server", "from=axfr needs server=HOST:PORT"))?;
            let (svc, caller, id, tsig) = (svc.clone(), caller.0.clone(), path.clone(), query.tsig.clone());
            blocking(move || svc.pull_zone(&caller, &id, &server, tsig.as_deref())).await?
        }
        Some(_) => return Err(invalid("from", "from is axfr (or left out, for a zone file in the body)").into()),
    };
    let report = blocking(move || svc.import_zone(&caller, &path, &text, mode, dry_run)).await?;
    let failed = !dry_run && !report.applied;
    let body = import_report(report, dry_run);
    Ok(if failed { HttpResponse::BadRequest() } else { HttpResponse::Ok() }.json(body))
}

/// What an import did, or on a dry run would do, line by line.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    applied: bool,
    dry_run: bool,
    added: Vec<ImportedRecord>,
    /// The same record with another TTL.
    changed: Vec<ImportChange>,
    removed: Vec<ImportedRecord>,
    unchanged: usize,
    refused: Vec<RefusedLine>,
    /// Lines taken with a change (a TTL brought inside the server's policy) or left out (a
    /// signed source zone's signatures): `error` says what.
    warnings: Vec<RefusedLine>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportedRecord {
    record_type: RecordType,
    name: String,
    value: String,
    ttl: u32,
    priority: Option<u16>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportChange {
    before: ImportedRecord,
    after: ImportedRecord,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RefusedLine {
    line: usize,
    error: String,
}

fn import_report(report: crate::service::ImportReport, dry_run: bool) -> ImportReport {
    let view = |r: crate::domain::record::RecordData| ImportedRecord {
        record_type: r.rtype,
        name: r.name,
        value: r.content,
        ttl: r.ttl,
        priority: r.priority,
    };
    ImportReport {
        applied: report.applied,
        dry_run,
        added: report.added.into_iter().map(view).collect(),
        changed: report.changed.into_iter().map(|(a, b)| ImportChange { before: view(a), after: view(b) }).collect(),
        removed: report.removed.into_iter().map(view).collect(),
        unchanged: report.unchanged,
        refused: report.refused.into_iter().map(|r| RefusedLine { line: r.line, error: r.reason }).collect(),
        warnings: report.warnings.into_iter().map(|r| RefusedLine { line: r.line, error: r.reason }).collect(),
    }
}
