//! The zone page's templates card: pick a template, fill in its variables, preview the
//! records it makes, apply it.

use std::collections::HashMap;

use actix_web::web;
use maud::{Markup, html};

use super::records::{DEFAULT_TTL, Extras, rerender};
use super::views::csrf;
use super::{ServerInfo, Viewer, WebError, WebResult, blocking};
use crate::domain::ValidationError;
use crate::domain::zone::Zone;
use crate::service::templates::Template;
use crate::service::{Error, Service};

pub(super) fn section(viewer: &Viewer, zone: &Zone, templates: &[Template], extras: &Extras) -> Markup {
    html! {
        section.card #templates {
            h2 { "Apply a template" }
            @if let Some(e) = &extras.template_error { p.notice.bad role="alert" { (e.message) } }
            @if let Some((id, vars, records)) = &extras.preview {
                div.preview {
                    h3 { "These records will be created" }
                    div.table-wrap { table {
                        thead { tr { th { "Name" } th { "Type" } th { "Content" } th.num { "TTL" } th.num { "Priority" } } }
                        tbody { @for r in records { tr { td { (r.name) } td { (r.rtype) } td { (r.content) } td.num { (r.ttl) } td.num { @if let Some(p) = r.priority { (p) } } } } }
                    } }
                    form method="post" action=(format!("/zones/{}/template", zone.id)) {
                        (csrf(viewer))
                        input type="hidden" name="template_id" value=(id);
                        input type="hidden" name="apply" value="1";
                        @for (k, v) in vars { input type="hidden" name=(format!("var.{k}")) value=(v); }
                        button.primary type="submit" { "Apply template" }
                    }
                }
            }
            @for t in templates {
                details {
                    summary { strong { (t.name) } " — " (t.description) }
                    form method="post" action=(format!("/zones/{}/template", zone.id)) {
                        (csrf(viewer))
                        input type="hidden" name="template_id" value=(t.id);
                        @for v in &t.variables {
                            div.field {
                                label for=(format!("{}-{}", t.id, v.name)) { (v.description) @if v.required { " (required)" } }
                                input id=(format!("{}-{}", t.id, v.name)) name=(format!("var.{}", v.name)) placeholder=[v.example.as_deref()] required[v.required];
                            }
                        }
                        button type="submit" { "Preview" }
                    }
                }
            }
        }
    }
}

pub async fn template(
    viewer: Viewer,
    svc: web::Data<Service>,
    info: web::Data<ServerInfo>,
    path: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
) -> WebResult {
    viewer.check_csrf(form.get("csrf").map(String::as_str).unwrap_or_default())?;
    let zone_id = path.into_inner();
    let template_id = form.get("template_id").cloned().unwrap_or_default();
    let vars: HashMap<String, String> = form
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("var.").map(|k| (k.to_string(), v.clone())))
        .filter(|(_, v)| !v.trim().is_empty())
        .collect();
    let (actor, id, tpl, service, values) =
        (viewer.actor.clone(), zone_id.clone(), template_id.clone(), svc.clone(), vars.clone());
    if form.contains_key("apply") {
        return match blocking(move || service.apply_template(&actor, &id, &tpl, &values, DEFAULT_TTL)).await {
            Ok(created) => {
                let notice = Some(format!("Template applied: {} records added.", created.len()));
                rerender(&viewer, svc, &info, zone_id, Extras { notice, ..Default::default() }).await
            }
            Err(WebError::Service(Error::Validation(e))) => template_failed(&viewer, svc, &info, zone_id, e).await,
            Err(WebError::Service(Error::Conflict(m))) => {
                template_failed(&viewer, svc, &info, zone_id, ValidationError::general(m)).await
            }
            Err(e) => Err(e),
        };
    }
    match blocking(move || service.preview_template(&actor, &id, &tpl, &values, DEFAULT_TTL)).await {
        Ok(records) => {
            rerender(
                &viewer,
                svc,
                &info,
                zone_id,
                Extras { preview: Some((template_id, vars, records)), ..Default::default() },
            )
            .await
        }
        Err(WebError::Service(Error::Validation(e))) => template_failed(&viewer, svc, &info, zone_id, e).await,
        Err(e) => Err(e),
    }
}

async fn template_failed(
    viewer: &Viewer,
    svc: web::Data<Service>,
    info: &ServerInfo,
    zone_id: String,
    e: ValidationError,
) -> WebResult {
    rerender(viewer, svc, info, zone_id, Extras { template_error: Some(e), ..Default::default() }).await
}
