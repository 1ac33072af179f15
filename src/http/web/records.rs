//! The zone page: the records table (filter, sort, pages), add / edit / delete with the API's
//! rules and messages beside the fields, bulk paste, and `dig`. Its other cards (templates,
//! zone file, settings) have files of their own.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use super::views::{self, csrf, form_error, page, url_encode};
use super::{ServerInfo, Viewer, WebError, WebResult, blocking, html, redirect};
use crate::domain::rdata::DESCRIPTORS;
use crate::domain::record::{Record, RecordData, RecordInput, RecordType};
use crate::domain::zone::Zone;
use crate::domain::{ValidationError, name, zonefile};
use crate::service::{Error, ImportMode, ImportReport, RecordChange, Service};

const PAGE_SIZE: usize = 100;
/// The console uses the PocketDNS default TTL.
pub(super) const DEFAULT_TTL: u32 = 300;

/// The table's view: filter, sort and page, kept in the query string.
#[derive(Deserialize, Default, Clone)]
pub struct TableQuery {
    #[serde(default)]
    q: String,
    #[serde(default, rename = "type")]
    rtype: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    page: Option<usize>,
}

impl TableQuery {
    fn link(&self, page: usize) -> String {
        format!(
            "?q={}&type={}&sort={}&page={page}",
            url_encode(&self.q),
            url_encode(&self.rtype),
            url_encode(&self.sort)
        )
    }
}

/// Values of the add/edit form, as typed.
#[derive(Deserialize, Default, Clone)]
pub struct RecordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default, rename = "type")]
    rtype: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    ttl: String,
    #[serde(default)]
    priority: String,
}

impl RecordForm {
    fn from_record(data: &RecordData) -> Self {
        RecordForm {
            csrf: String::new(),
            rtype: data.rtype.to_string(),
            name: data.name.clone(),
            content: data.content.clone(),
            ttl: data.ttl.to_string(),
            priority: data.priority.map(|p| p.to_string()).unwrap_or_default(),
        }
    }

    fn input(&self) -> Result<RecordInput, ValidationError> {
        let number = |text: &str, field: &str| -> Result<Option<i64>, ValidationError> {
            let text = text.trim();
            if text.is_empty() {
                return Ok(None);
            }
            text.parse().map(Some).map_err(|_| ValidationError::new(field, format!("'{text}' is not a number")))
        };
        Ok(RecordInput {
            rtype: Some(self.rtype.clone()),
            name: Some(self.name.clone()),
            content: Some(self.content.clone()),
            ttl: number(&self.ttl, "ttl")?,
            priority: number(&self.priority, "priority")?,
        })
    }
}

/// What the page shows besides the table.
#[derive(Default)]
pub(super) struct Extras {
    pub(super) form: RecordForm,
    pub(super) error: Option<ValidationError>,
    pub(super) notice: Option<String>,
    pub(super) bulk: Option<(usize, Vec<String>)>,
    pub(super) bulk_text: String,
    pub(super) preview: Option<(String, HashMap<String, String>, Vec<RecordData>)>,
    pub(super) template_error: Option<ValidationError>,
    pub(super) settings_error: Option<ValidationError>,
    /// An import's report, the text and mode it was for (a preview until applied).
    pub(super) import: Option<(ImportReport, String, ImportMode)>,
}

fn record_form(
    viewer: &Viewer,
    action: &str,
    form: &RecordForm,
    error: Option<&ValidationError>,
    submit: &str,
) -> Markup {
    html! {
        (form_error(error, &["type", "name", "content", "ttl", "priority"]))
        form.record-form method="post" action=(action) {
            (csrf(viewer))
            div.field.invalid[error.is_some_and(|e| e.field.as_deref() == Some("type"))] {
                label for="f-type" { "Type" }
                select #f-type name="type" {
                    @if !form.rtype.is_empty() && !DESCRIPTORS.iter().any(|d| form.rtype.eq_ignore_ascii_case(d.name)) {
                        option value=(form.rtype) selected { (form.rtype) }
                    }
                    @for d in DESCRIPTORS {
                        option value=(d.name) data-syntax=(d.syntax) data-example=(d.example) selected[form.rtype.eq_ignore_ascii_case(d.name)] { (d.name) }
                    }
                }
                @let chosen = DESCRIPTORS.iter().find(|d| form.rtype.eq_ignore_ascii_case(d.name)).unwrap_or(&DESCRIPTORS[0]);
                p.hint #type-hint { "Content: " code { (chosen.syntax) } " — e.g. " code { (chosen.example) } }
                @if let Some(e) = error.filter(|e| e.field.as_deref() == Some("type")) { p.error role="alert" { (e.message) } }
            }
            (views::field("Name", "name", &form.name, error, "@, www, _dmarc, *.dev"))
            (views::field("Content", "content", &form.content, error, "192.0.2.1, mail.example.com, text…"))
            details.types {
                summary { "Syntax of every type (any other: TYPEnnn with \\# <length> <hex>)" }
                table { tbody { @for d in DESCRIPTORS { tr { th { (d.name) } td { code { (d.syntax) } } td { code { (d.example) } } } } } }
            }
            (views::field("TTL (s)", "ttl", &form.ttl, error, "300"))
            (views::field("Priority (MX, SRV)", "priority", &form.priority, error, "10"))
            button.primary type="submit" { (submit) }
        }
    }
}

fn dig_command(info: &ServerInfo, zone: &Zone, record: &Record) -> String {
    let owner = name::absolute(&record.data.name, &zone.domain);
    match info.dns.first() {
        Some(addr) if addr.port() == 53 => format!("dig @{} {owner} {}", addr.ip(), record.data.rtype),
        Some(addr) => format!("dig @{} -p {} {owner} {}", addr.ip(), addr.port(), record.data.rtype),
        None => format!("dig {owner} {}", record.data.rtype),
    }
}

/// The records matching the view, sorted, and the total before paging.
fn visible<'a>(records: &'a [Record], view: &TableQuery) -> Vec<&'a Record> {
    let q = view.q.trim().to_ascii_lowercase();
    let mut rows: Vec<&Record> = records
        .iter()
        .filter(|r| q.is_empty() || r.data.name.contains(&q) || r.data.content.to_ascii_lowercase().contains(&q))
        .filter(|r| view.rtype.is_empty() || r.data.rtype.to_string().eq_ignore_ascii_case(&view.rtype))
        .collect();
    match view.sort.as_str() {
        "type" => rows.sort_by(|a, b| a.data.rtype.cmp(&b.data.rtype).then(a.data.name.cmp(&b.data.name))),
        "ttl" => rows.sort_by_key(|r| r.data.ttl),
        "created" => {}
        _ => rows.sort_by(|a, b| a.data.name.cmp(&b.data.name).then(a.data.rtype.cmp(&b.data.rtype))),
    }
    rows
}

fn records_table(viewer: &Viewer, info: &ServerInfo, zone: &Zone, records: &[Record], view: &TableQuery) -> Markup {
    let rows = visible(records, view);
    let pages = rows.len().div_ceil(PAGE_SIZE).max(1);
    let page_no = view.page.unwrap_or(1).clamp(1, pages);
    let shown = rows.iter().skip((page_no - 1) * PAGE_SIZE).take(PAGE_SIZE);
    html! {
        form.row.search method="get" action=(format!("/zones/{}", zone.id)) role="search" {
            div.field { label for="q" { "Filter by name or content" } input #q type="search" name="q" value=(view.q) data-filter-target="records"; }
            div.field {
                label for="filter-type" { "Type" }
                select #filter-type name="type" {
                    option value="" { "any" }
                    @for t in RecordType::named() { option value=(t) selected[view.rtype.eq_ignore_ascii_case(&t.to_string())] { (t) } }
                }
            }
            div.field {
                label for="sort" { "Sort by" }
                select #sort name="sort" {
                    @for (v, l) in [("name", "name"), ("type", "type"), ("ttl", "TTL"), ("created", "creation")] { option value=(v) selected[view.sort == v] { (l) } }
                }
            }
            button type="submit" { "Show" }
        }
        p.muted { (rows.len()) " of " (records.len()) " records" @if pages > 1 { " · page " (page_no) " of " (pages) } }
        div #records .table-wrap { table data-filterable {
            thead { tr { th { "Name" } th { "Type" } th { "Content" } th.num { "TTL" } th.num { "Priority" } th { "Check" } th { span.sr-only { "Actions" } } } }
            tbody {
                @for r in shown {
                    tr {
                        td.name { (r.data.name) }
                        td { span.tag { (r.data.rtype) } }
                        td.content { (r.data.content) }
                        td.num { (r.data.ttl) }
                        td.num { @if let Some(p) = r.data.priority { (p) } }
                        td { @let cmd = dig_command(info, zone, r); code.dig { (cmd) } (views::copy_button(&cmd)) }
                        td.actions {
                            a.button.small href=(format!("/zones/{}/records/{}/edit", zone.id, r.id)) { "Edit" }
                            form method="post" action=(format!("/zones/{}/records/{}/delete", zone.id, r.id)) data-confirm=(format!("Delete {} {} {}?", r.data.name, r.data.rtype, r.data.content)) {
                                (csrf(viewer))
                                button.small.danger type="submit" aria-label=(format!("Delete {} {}", r.data.name, r.data.rtype)) { "Delete" }
                            }
                        }
                    }
                }
            }
        } }
        @if pages > 1 {
            nav.pages aria-label="Pages" {
                @if page_no > 1 { a href=(view.link(page_no - 1)) rel="prev" { "← Previous" } }
                @if page_no < pages { a href=(view.link(page_no + 1)) rel="next" { "Next →" } }
            }
        }
    }
}

/// The zone page in the table's first view, with `extras`: a notice, or a card's error.
pub(super) async fn rerender(
    viewer: &Viewer,
    svc: web::Data<Service>,
    info: &ServerInfo,
    zone_id: String,
    extras: Extras,
) -> WebResult {
    render(viewer, svc, info, zone_id, &TableQuery::default(), extras).await
}

async fn render(
    viewer: &Viewer,
    svc: web::Data<Service>,
    info: &ServerInfo,
    zone_id: String,
    view: &TableQuery,
    extras: Extras,
) -> WebResult {
    let actor = viewer.actor.clone();
    let service = svc.clone();
    let (zone, records) = blocking(move || service.get_zone(&actor, &zone_id)).await?;
    let failed = extras.error.is_some() || extras.template_error.is_some() || extras.settings_error.is_some();
    let body = page(
        &zone.domain,
        Some(viewer),
        "Zones",
        html! {
            div.title-row {
                h1 { (zone.domain) }
                div.links {
                    a href=(format!("/zones/{}/history", zone.id)) { "History" }
                    a.danger href=(format!("/zones/{}/delete", zone.id)) { "Delete zone" }
                }
            }
            p.muted { "Serial " strong { (zone.serial) } " · " (zone.record_count) " records · id " code { (zone.id) } }
            (views::notice(extras.notice.as_deref()))
            section.card #add {
                h2 { "Add a record" }
                (record_form(viewer, &format!("/zones/{}/records", zone.id), &extras.form, extras.error.as_ref(), "Add record"))
            }
            section.card #table { h2 { "Records" } (records_table(viewer, info, &zone, &records, view)) }
            section.card #bulk {
                h2 { "Add many records" }
                p.muted { "Paste zone-file lines (" code { "www 300 IN A 192.0.2.1" } ") or CSV rows (" code { "name,type,content,ttl,priority" } "), one record a line." }
                @if let Some((created, errors)) = &extras.bulk {
                    p.notice.good[errors.is_empty()].bad[!errors.is_empty()] role="status" { (created) " records added" @if !errors.is_empty() { ", " (errors.len()) " refused:" } }
                    @if !errors.is_empty() { ul.errors { @for e in errors { li { (e) } } } }
                }
                form method="post" action=(format!("/zones/{}/records/bulk", zone.id)) {
                    (csrf(viewer))
                    div.field { label for="bulk-text" { "Records" } textarea #bulk-text name="text" rows="6" { (extras.bulk_text) } }
                    button type="submit" { "Add records" }
                }
            }
            (super::zone_templates::section(viewer, &zone, svc.templates(), &extras))
            (super::zonefile::section(viewer, &zone, extras.import.as_ref()))
            (super::zone_dnssec::section(viewer, &zone, svc.nameserver().signed_until(&zone.domain), svc.dnssec_policy()))
            (super::zone_settings::section(viewer, &zone, svc.catalog_zone().is_some(), extras.settings_error.as_ref()))
        },
    );
    let status = if failed { actix_web::http::StatusCode::BAD_REQUEST } else { actix_web::http::StatusCode::OK };
    Ok(HttpResponse::build(status).content_type("text/html; charset=utf-8").body(body.into_string()))
}

pub async fn zone_page(
    viewer: Viewer,
    svc: web::Data<Service>,
    info: web::Data<ServerInfo>,
    path: web::Path<String>,
    view: web::Query<TableQuery>,
) -> WebResult {
    let extras =
        Extras { form: RecordForm { ttl: DEFAULT_TTL.to_string(), ..Default::default() }, ..Default::default() };
    render(&viewer, svc, &info, path.into_inner(), &view, extras).await
}

pub async fn create(
    viewer: Viewer,
    svc: web::Data<Service>,
    info: web::Data<ServerInfo>,
    path: web::Path<String>,
    form: web::Form<RecordForm>,
) -> WebResult {
    viewer.check_csrf(&form.csrf)?;
    let zone_id = path.into_inner();
    let form = form.into_inner();
    let outcome = match form.input() {
        Ok(input) => {
            let (actor, id, service) = (viewer.actor.clone(), zone_id.clone(), svc.clone());
            blocking(move || service.create_record(&actor, &id, &input, DEFAULT_TTL)).await
        }
        Err(e) => Err(WebError::Service(Error::Validation(e))),
    };
    match outcome {
        Ok(record) => {
            let notice =
                format!("Added {} {} {}.", record.data.name, record.data.rtype, record.data.content_with_priority());
            let extras = Extras {
                notice: Some(notice),
                form: RecordForm { ttl: form.ttl, ..Default::default() },
                ..Default::default()
            };
            rerender(&viewer, svc, &info, zone_id, extras).await
        }
        Err(WebError::Service(Error::Validation(e))) => {
            rerender(&viewer, svc, &info, zone_id, Extras { form, error: Some(e), ..Default::default() }).await
        }
        Err(WebError::Service(Error::Conflict(message))) => {
            let e = ValidationError::new("name", message);
            rerender(&viewer, svc, &info, zone_id, Extras { form, error: Some(e), ..Default::default() }).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct BulkForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
}

pub async fn bulk(
    viewer: Viewer,
    svc: web::Data<Service>,
    info: web::Data<ServerInfo>,
    path: web::Path<String>,
    form: web::Form<BulkForm>,
) -> WebResult {
    viewer.check_csrf(&form.csrf)?;
    let zone_id = path.into_inner();
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for (number, line) in form.text.lines().enumerate() {
        match zonefile::parse_line(line) {
            Some(Ok(input)) => inputs.push((serde_json::json!(number + 1), input)),
            Some(Err(e)) => errors.push(format!("line {}: {e}", number + 1)),
            None => {}
        }
    }
    let (actor, id, service) = (viewer.actor.clone(), zone_id.clone(), svc.clone());
    let (created, refused) = blocking(move || service.bulk_create(&actor, &id, inputs, DEFAULT_TTL)).await?;
    errors.extend(refused.into_iter().map(|e| format!("line {}: {}", e.record, e.error.message)));
    let text = if errors.is_empty() { String::new() } else { form.text.clone() };
    rerender(
        &viewer,
        svc,
        &info,
        zone_id,
        Extras { bulk: Some((created.len(), errors)), bulk_text: text, ..Default::default() },
    )
    .await
}

fn edit_page(
    viewer: &Viewer,
    zone: &Zone,
    record_id: &str,
    form: &RecordForm,
    error: Option<&ValidationError>,
) -> Markup {
    page(
        "Edit record",
        Some(viewer),
        "Zones",
        html! {
            p { a href=(format!("/zones/{}", zone.id)) { "← " (zone.domain) } }
            section.card.narrow {
                h1 { "Edit record" }
                (record_form(viewer, &format!("/zones/{}/records/{record_id}/edit", zone.id), form, error, "Save"))
            }
        },
    )
}

pub async fn edit_form(viewer: Viewer, svc: web::Data<Service>, path: web::Path<(String, String)>) -> WebResult {
    let (zone_id, record_id) = path.into_inner();
    let (actor, rid) = (viewer.actor.clone(), record_id.clone());
    let (zone, records) = blocking(move || svc.get_zone(&actor, &zone_id)).await?;
    let record = records.iter().find(|r| r.id == rid).ok_or(WebError::Service(Error::NotFound("Record")))?;
    Ok(html(edit_page(&viewer, &zone, &record_id, &RecordForm::from_record(&record.data), None)))
}

pub async fn update(
    viewer: Viewer,
    svc: web::Data<Service>,
    path: web::Path<(String, String)>,
    form: web::Form<RecordForm>,
) -> WebResult {
    viewer.check_csrf(&form.csrf)?;
    let (zone_id, record_id) = path.into_inner();
    let form = form.into_inner();
    let outcome = match form.input() {
        Ok(input) => {
            let change = RecordChange {
                replace: true,
                rtype: input.rtype,
                name: input.name,
                content: input.content,
                ttl: input.ttl,
                priority: input.priority,
            };
            let (actor, zid, rid, service) = (viewer.actor.clone(), zone_id.clone(), record_id.clone(), svc.clone());
            blocking(move || service.update_record(&actor, Some(&zid), &rid, change, DEFAULT_TTL)).await
        }
        Err(e) => Err(WebError::Service(Error::Validation(e))),
    };
    let error = match outcome {
        Ok(_) => return Ok(redirect(&format!("/zones/{zone_id}"))),
        Err(WebError::Service(Error::Validation(e))) => e,
        Err(WebError::Service(Error::Conflict(m))) => ValidationError::new("name", m),
        Err(e) => return Err(e),
    };
    let actor = viewer.actor.clone();
    let (zone, _) = blocking(move || svc.get_zone(&actor, &zone_id)).await?;
    Ok(HttpResponse::BadRequest()
        .content_type("text/html; charset=utf-8")
        .body(edit_page(&viewer, &zone, &record_id, &form, Some(&error)).into_string()))
}

pub async fn delete(
    viewer: Viewer,
    svc: web::Data<Service>,
    path: web::Path<(String, String)>,
    form: web::Form<super::account::CsrfOnly>,
) -> WebResult {
    viewer.check_csrf(form.csrf())?;
    let (zone_id, record_id) = path.into_inner();
    let (actor, zid) = (viewer.actor.clone(), zone_id.clone());
    blocking(move || svc.delete_record(&actor, Some(&zid), &record_id)).await?;
    Ok(redirect(&format!("/zones/{zone_id}")))
}
