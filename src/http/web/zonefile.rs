//! The zone page's zone-file card: import (pasted, uploaded or pulled by AXFR) with a
//! preview before anything is written, and export.

use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use super::records::{Extras, rerender};
use super::views::csrf;
use super::{ServerInfo, Viewer, WebError, WebResult, blocking};
use crate::domain::record::RecordData;
use crate::domain::zone::Zone;
use crate::service::{ImportMode, ImportReport, Service};

pub(super) fn section(viewer: &Viewer, zone: &Zone, import: Option<&(ImportReport, String, ImportMode)>) -> Markup {
    let show = |r: &RecordData| format!("{} {} {} {}", r.name, r.ttl, r.rtype, r.content_with_priority());
    html! {
        section.card #zonefile {
            h2 { "Zone file" }
            p { a.button href=(format!("/zones/{}/export", zone.id)) download { "Download as BIND zone file" } }
            @if let Some((report, text, mode)) = import {
                div.preview {
                    h3 { @if report.applied { "Imported" } @else { "What the import will do" } }
                    p { (report.added.len()) " to add, " (report.changed.len()) " to change, " (report.removed.len()) " to remove, " (report.unchanged) " unchanged, " (report.refused.len()) " refused." }
                    @if !report.refused.is_empty() { ul.errors { @for r in &report.refused { li { "line " (r.line) ": " (r.reason) } } } }
                    @if !report.warnings.is_empty() { h4 { "Warnings" } ul.warnings { @for w in &report.warnings { li { "line " (w.line) ": " (w.reason) } } } }
                    @if !report.added.is_empty() { h4 { "Added" } ul { @for r in report.added.iter().take(200) { li { code { (show(r)) } } } } }
                    @if !report.changed.is_empty() { h4 { "Changed" } ul { @for (a, b) in report.changed.iter().take(200) { li { code { (show(a)) } " → " code { (show(b)) } } } } }
                    @if !report.removed.is_empty() { h4 { "Removed" } ul { @for r in report.removed.iter().take(200) { li { code { (show(r)) } } } } }
                    @if !report.applied && (*mode == ImportMode::Merge || report.refused.is_empty()) {
                        form method="post" action=(format!("/zones/{}/import", zone.id)) {
                            (csrf(viewer))
                            input type="hidden" name="mode" value=(if *mode == ImportMode::Replace { "replace" } else { "merge" });
                            input type="hidden" name="apply" value="1";
                            textarea name="text" hidden { (text) }
                            button.primary type="submit" { "Apply import" }
                        }
                    }
                }
            }
            form method="post" action=(format!("/zones/{}/import", zone.id)) {
                (csrf(viewer))
                div.field { label for="import-text" { "Paste a BIND zone file" } textarea #import-text name="text" rows="6" placeholder="$ORIGIN example.com.\nwww 300 IN A 192.0.2.1" {} }
                fieldset {
                    legend { "Mode" }
                    label.inline { input type="radio" name="mode" value="merge" checked; " merge (add what is missing)" }
                    label.inline { input type="radio" name="mode" value="replace"; " replace (the zone becomes the file)" }
                }
                button type="submit" { "Preview import" }
            }
            form method="post" action=(format!("/zones/{}/import", zone.id)) {
                (csrf(viewer))
                h3 { "Or pull it from the server that has it now (AXFR)" }
                div.row {
                    div.field { label for="import-server" { "Server (host:port)" } input #import-server name="server" placeholder="192.0.2.53:53"; }
                    div.field { label for="import-tsig" { "TSIG key, if it asks for one" } input #import-tsig name="tsig" placeholder="xfr.example.net:hmac-sha256:c2VjcmV0"; }
                }
                input type="hidden" name="mode" value="merge";
                button type="submit" { "Preview what it sends" }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct ImportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
    /// Pull the zone from this server by AXFR instead (`host:port`).
    #[serde(default)]
    server: String,
    /// The transfer's TSIG key, `NAME:ALGORITHM:SECRET`.
    #[serde(default)]
    tsig: String,
    #[serde(default)]
    mode: String,
    apply: Option<String>,
}

/// Previews an import (a dry run) or, with `apply`, performs it.
pub async fn import(
    viewer: Viewer,
    svc: web::Data<Service>,
    info: web::Data<ServerInfo>,
    path: web::Path<String>,
    form: web::Form<ImportForm>,
) -> WebResult {
    viewer.check_csrf(&form.csrf)?;
    let zone_id = path.into_inner();
    let form = form.into_inner();
    let mode = if form.mode == "replace" { ImportMode::Replace } else { ImportMode::Merge };
    let mut form = form;
    if !form.server.trim().is_empty() {
        form.text = pull(&viewer, &svc, &zone_id, &form).await?;
    }
    let (actor, id, service, text) = (viewer.actor.clone(), zone_id.clone(), svc.clone(), form.text.clone());
    let dry_run = form.apply.is_none();
    let report = blocking(move || service.import_zone(&actor, &id, &text, mode, dry_run)).await?;
    rerender(&viewer, svc, &info, zone_id, Extras { import: Some((report, form.text, mode)), ..Default::default() })
        .await
}

/// The zone as the form's server sends it by AXFR, as zone-file text for the preview.
async fn pull(viewer: &Viewer, svc: &web::Data<Service>, zone_id: &str, form: &ImportForm) -> Result<String, WebError> {
    let (actor, id, service) = (viewer.actor.clone(), zone_id.to_string(), svc.clone());
    let (server, tsig) = (form.server.clone(), form.tsig.clone());
    blocking(move || service.pull_zone(&actor, &id, &server, Some(&tsig))).await
}

pub async fn export(viewer: Viewer, svc: web::Data<Service>, path: web::Path<String>) -> WebResult {
    let actor = viewer.actor.clone();
    let (domain, text) = blocking(move || svc.export_zone(&actor, &path)).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/dns; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{domain}.zone\"")))
        .body(text))
}
