//! The dashboard and the zone list: search, create, delete (confirmed by typing the domain).

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use super::views::{csrf, field, form_error, page};
use super::{ServerInfo, Viewer, WebError, WebResult, blocking, html, redirect};
use crate::domain::zone::Zone;
use crate::domain::{ValidationError, iso8601};
use crate::service::{Error, Service};

pub async fn dashboard(viewer: Viewer, svc: web::Data<Service>, info: web::Data<ServerInfo>) -> WebResult {
    let actor = viewer.actor.clone();
    let service = svc.clone();
    let zones = blocking(move || service.list_zones(&actor, None)).await?;
    let records: u64 = zones.iter().map(|z| z.record_count).sum();
    let secondaries = svc.nameserver().notify_status();
    let mine: Vec<_> = secondaries.iter().filter(|s| zones.iter().any(|z| z.domain == s.zone)).collect();
    let served = svc.nameserver().status().zones;
    Ok(html(page(
        "Dashboard",
        Some(&viewer),
        "Dashboard",
        html! {
            h1 { "Dashboard" }
            div.stats {
                div.stat { span.num { (zones.len()) } span { "your zones" } }
                div.stat { span.num { (records) } span { "records" } }
                div.stat { span.num { (served) } span { "zones served" } }
            }
            section.card {
                h2 { "Nameserver" }
                p { "Answering on " @for (i, a) in info.dns.iter().enumerate() { @if i > 0 { ", " } code { (a) } } " (UDP and TCP)." }
                @if mine.is_empty() { p.muted { "No secondaries have been notified of your zones yet." } } @else {
                    div.table-wrap { table {
                        thead { tr { th { "Zone" } th { "Secondary" } th { "Serial" } th { "Last NOTIFY" } } }
                        tbody { @for s in &mine {
                            tr { td { (s.zone) } td { code { (s.target) } } td { (s.serial) } td { @if s.acknowledged { span.tag.good { "acknowledged" } } @else { span.tag.warn { "pending" } } } }
                        } }
                    } }
                }
            }
            section.card {
                h2 { "Recently changed zones" }
                (zone_table(&{ let mut z = zones.clone(); z.sort_by_key(|z| std::cmp::Reverse(z.updated_at)); z.truncate(5); z }))
                p { a href="/zones" { "All zones →" } }
            }
        },
    )))
}

fn zone_table(zones: &[Zone]) -> Markup {
    html! {
        @if zones.is_empty() { p.muted { "No zones yet." } } @else {
            div.table-wrap { table data-filterable {
                thead { tr { th { "Domain" } th.num { "Records" } th.num { "Serial" } th { "Changed" } } }
                tbody { @for z in zones {
                    tr { td { a href=(format!("/zones/{}", z.id)) { (z.domain) } } td.num { (z.record_count) } td.num { (z.serial) } td { time { (iso8601(z.updated_at)) } } }
                } }
            } }
        }
    }
}

fn list_page(viewer: &Viewer, zones: &[Zone], q: &str, error: Option<&ValidationError>, domain: &str) -> Markup {
    page(
        "Zones",
        Some(viewer),
        "Zones",
        html! {
            h1 { "Zones" }
            section.card {
                h2 { "Add a zone" }
                (form_error(error, &["domain"]))
                form.row method="post" action="/zones" {
                    (csrf(viewer))
                    (field("Domain", "domain", domain, error, "example.com"))
                    button.primary type="submit" { "Add zone" }
                }
            }
            section.card {
                form.row.search method="get" action="/zones" role="search" {
                    div.field { label for="q" { "Search zones" } input #q type="search" name="q" value=(q) data-filter-target="zones"; }
                    button type="submit" { "Search" }
                }
                div #zones { (zone_table(zones)) }
            }
        },
    )
}

pub async fn list(viewer: Viewer, svc: web::Data<Service>, query: web::Query<HashMap<String, String>>) -> WebResult {
    let q = query.get("q").map(|q| q.trim().to_ascii_lowercase()).unwrap_or_default();
    let actor = viewer.actor.clone();
    let zones = blocking(move || svc.list_zones(&actor, None)).await?;
    let zones: Vec<Zone> = zones.into_iter().filter(|z| q.is_empty() || z.domain.contains(&q)).collect();
    Ok(html(list_page(&viewer, &zones, &q, None, "")))
}

#[derive(Deserialize)]
pub struct NewZone {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    domain: String,
}

pub async fn create(viewer: Viewer, svc: web::Data<Service>, form: web::Form<NewZone>) -> WebResult {
    viewer.check_csrf(&form.csrf)?;
    let (actor, domain) = (viewer.actor.clone(), form.domain.clone());
    let service = svc.clone();
    match blocking(move || service.create_zone(&actor, &domain)).await {
        Ok(zone) => Ok(redirect(&format!("/zones/{}", zone.id))),
        Err(WebError::Service(Error::Validation(e))) => {
            let actor = viewer.actor.clone();
            let zones = blocking(move || svc.list_zones(&actor, None)).await?;
            Ok(HttpResponse::BadRequest()
                .content_type("text/html; charset=utf-8")
                .body(list_page(&viewer, &zones, "", Some(&e), &form.domain).into_string()))
        }
        Err(e) => Err(e),
    }
}

fn delete_page(viewer: &Viewer, zone: &Zone, error: Option<&str>) -> Markup {
    page(
        "Delete zone",
        Some(viewer),
        "Zones",
        html! {
            section.card.narrow.danger-zone {
                h1 { "Delete " (zone.domain) "?" }
                p { "This removes the zone and its " (zone.record_count) " records, and the nameserver stops answering for it at once. It cannot be undone." }
                @if let Some(e) = error { p.notice.bad role="alert" { (e) } }
                form method="post" action=(format!("/zones/{}/delete", zone.id)) {
                    (csrf(viewer))
                    div.field { label for="confirm" { "Type " strong { (zone.domain) } " to confirm" } input #confirm name="confirm" autocomplete="off" required; }
                    button.danger type="submit" { "Delete zone" }
                    " " a href=(format!("/zones/{}", zone.id)) { "Cancel" }
                }
            }
        },
    )
}

pub async fn confirm_delete(viewer: Viewer, svc: web::Data<Service>, path: web::Path<String>) -> WebResult {
    let actor = viewer.actor.clone();
    let (zone, _) = blocking(move || svc.get_zone(&actor, &path)).await?;
    Ok(html(delete_page(&viewer, &zone, None)))
}

#[derive(Deserialize)]
pub struct ConfirmDelete {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: String,
}

pub async fn delete(
    viewer: Viewer,
    svc: web::Data<Service>,
    path: web::Path<String>,
    form: web::Form<ConfirmDelete>,
) -> WebResult {
    viewer.check_csrf(&form.csrf)?;
    let (actor, id) = (viewer.actor.clone(), path.into_inner());
    let service = svc.clone();
    let (zone, _) = blocking(move || service.get_zone(&actor, &id)).await?;
    if form.confirm.trim().trim_end_matches('.').to_ascii_lowercase() != zone.domain {
        return Ok(HttpResponse::BadRequest()
            .content_type("text/html; charset=utf-8")
            .body(delete_page(&viewer, &zone, Some("The domain you typed does not match.")).into_string()));
    }
    let actor = viewer.actor.clone();
    blocking(move || svc.delete_zone(&actor, &zone.id)).await?;
    Ok(redirect("/zones"))
}
