//! Users (admins only) and the change history.

use actix_web::web;
use maud::{Markup, html};
use serde::Deserialize;

use super::session::Sessions;
use super::views::{self, csrf, field, form_error, page};
use super::{Viewer, WebError, WebResult, blocking, html};
use crate::domain::auth::{User, generate_password};
use crate::domain::tsig::{TsigAlgorithm, TsigKey};
use crate::domain::{ValidationError, iso8601};
use crate::service::{Error, Service, UserChange};
use crate::store::AuditEntry;

fn users_page(viewer: &Viewer, users: &[User], shown: Option<(&str, &str)>, error: Option<&ValidationError>) -> Markup {
    page(
        "Users",
        Some(viewer),
        "Users",
        html! {
            div.title-row { h1 { "Users" } div.links {
                a href="/admin/tsig" { "TSIG keys →" } " "
                a href="/admin/backup" download { "Download a backup" }
            } }
            @if let Some((who, password)) = shown {
                section.card.reveal role="status" {
                    h2 { "Password for " (who) }
                    p { "Give it to them now: it is shown only once." }
                    div.secret { code { (password) } (views::copy_button(password)) }
                }
            }
            section.card {
                h2 { "Add a user" }
                (form_error(error, &["username"]))
                form.row method="post" action="/admin/users" {
                    (csrf(viewer))
                    (field("Username", "username", "", error, "alice"))
                    label.inline { input type="checkbox" name="admin" value="1"; " administrator" }
                    button.primary type="submit" { "Add user" }
                }
            }
            section.card {
                div.table-wrap { table {
                    thead { tr { th { "User" } th { "Role" } th { "Status" } th { "Created" } th { span.sr-only { "Actions" } } } }
                    tbody { @for u in users {
                        tr {
                            td { (u.username) }
                            td { @if u.admin { span.tag { "admin" } } @else { "user" } }
                            td { @if u.disabled { span.tag.warn { "disabled" } } @else { "active" } }
                            td { time { (iso8601(u.created_at)) } }
                            td.actions { @if u.id != viewer.user.id {
                                (user_action(viewer, u, if u.disabled { "enable" } else { "disable" }, if u.disabled { "Enable" } else { "Disable" }))
                                (user_action(viewer, u, if u.admin { "revoke_admin" } else { "make_admin" }, if u.admin { "Remove admin" } else { "Make admin" }))
                                (user_action(viewer, u, "reset_password", "Reset password"))
                            } }
                        }
                    } }
                } }
            }
        },
    )
}

fn user_action(viewer: &Viewer, user: &User, action: &str, label: &str) -> Markup {
    html! {
        form method="post" action=(format!("/admin/users/{}", user.id)) data-confirm=(format!("{label}: {}?", user.username)) {
            (csrf(viewer))
            input type="hidden" name="action" value=(action);
            button.small type="submit" { (label) }
        }
    }
}

async fn render_users(
    viewer: &Viewer,
    svc: web::Data<Service>,
    shown: Option<(&str, &str)>,
    error: Option<&ValidationError>,
) -> WebResult {
    let actor = viewer.actor.clone();
    let users = blocking(move || svc.list_users(&actor)).await?;
    Ok(html(users_page(viewer, &users, shown, error)))
}

/// A consistent copy of the data file, as the admin API gives it.
pub async fn backup(viewer: Viewer, svc: web::Data<Service>) -> WebResult {
    let actor = viewer.actor.clone();
    let bytes = blocking(move || svc.backup(&actor)).await?;
    Ok(crate::http::api::admin::backup_download(bytes))
}

pub async fn users(viewer: Viewer, svc: web::Data<Service>) -> WebResult {
    viewer.actor.require_admin()?;
    render_users(&viewer, svc, None, None).await
}

#[derive(Deserialize)]
pub struct NewUser {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    admin: Option<String>,
}

pub async fn create_user(viewer: Viewer, svc: web::Data<Service>, form: web::Form<NewUser>) -> WebResult {
    viewer.check_csrf(&form.csrf)?;
    let (actor, name, admin, service) =
        (viewer.actor.clone(), form.username.clone(), form.admin.is_some(), svc.clone());
    match blocking(move || service.create_user(&actor, &name, None, admin)).await {
        Ok((user, password)) => render_users(&viewer, svc, Some((&user.username, &password)), None).await,
        Err(WebError::Service(Error::Validation(e))) => render_users(&viewer, svc, None, Some(&e)).await,
        Err(WebError::Service(Error::Conflict(m))) => {
            render_users(&viewer, svc, None, Some(&ValidationError::new("username", m))).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct UserAction {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
}

pub async fn update_user(
    viewer: Viewer,
    svc: web::Data<Service>,
    sessions: web::Data<Sessions>,
    path: web::Path<String>,
    form: web::Form<UserAction>,
) -> WebResult {
    viewer.check_csrf(&form.csrf)?;
    let password = generate_password();
    let change = match form.action.as_str() {
        "disable" => UserChange { disabled: Some(true), ..Default::default() },
        "enable" => UserChange { disabled: Some(false), ..Default::default() },
        "make_admin" => UserChange { admin: Some(true), ..Default::default() },
        "revoke_admin" => UserChange { admin: Some(false), ..Default::default() },
        "reset_password" => UserChange { password: Some(password.clone()), ..Default::default() },
        other => {
            return Err(WebError::Service(Error::Validation(ValidationError::new(
                "action",
                format!("Unknown action '{other}'"),
            ))));
        }
    };
    let reset = change.password.is_some();
    let (actor, id, service) = (viewer.actor.clone(), path.into_inner(), svc.clone());
    let user = blocking(move || service.update_user(&actor, &id, change)).await?;
    if user.disabled || reset {
        sessions.end_user(&user.id);
    }
    render_users(&viewer, svc, reset.then_some((user.username.as_str(), password.as_str())), None).await
}

fn history_page(viewer: &Viewer, title: &str, entries: &[AuditEntry]) -> Markup {
    let compact = |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_default();
    page(
        title,
        Some(viewer),
        "History",
        html! {
            h1 { (title) }
            @if entries.is_empty() { p.muted { "Nothing has changed yet." } } @else {
                div.table-wrap { table.history data-filterable {
                    thead { tr { th { "When" } th { "Who" } th { "What" } th { "Zone" } th { "Before" } th { "After" } } }
                    tbody { @for e in entries {
                        tr {
                            td { time { (iso8601(e.at)) } }
                            td { (e.actor) br; small.muted { (e.via) } }
                            td { code { (e.action) } }
                            td { @if let (Some(id), Some(zone)) = (&e.zone_id, &e.zone) { a href=(format!("/zones/{id}")) { (zone) } } }
                            td.json { (compact(&e.before)) }
                            td.json { (compact(&e.after)) }
                        }
                    } }
                } }
            }
        },
    )
}

const HISTORY_PAGE: usize = 200;

pub async fn history(viewer: Viewer, svc: web::Data<Service>) -> WebResult {
    let actor = viewer.actor.clone();
    let entries = blocking(move || svc.history(&actor, None, HISTORY_PAGE)).await?;
    Ok(html(history_page(&viewer, "History", &entries)))
}

pub async fn zone_history(viewer: Viewer, svc: web::Data<Service>, path: web::Path<String>) -> WebResult {
    let (actor, id) = (viewer.actor.clone(), path.into_inner());
    let service = svc.clone();
    let (zone, _) = blocking(move || service.get_zone(&actor, &id)).await?;
    let (actor, id) = (viewer.actor.clone(), zone.id.clone());
    let entries = blocking(move || svc.history(&actor, Some(&id), HISTORY_PAGE)).await?;
    Ok(html(history_page(&viewer, &format!("History of {}", zone.domain), &entries)))
}

fn tsig_page(viewer: &Viewer, keys: &[TsigKey], created: Option<&TsigKey>, error: Option<&ValidationError>) -> Markup {
    page(
        "TSIG keys",
        Some(viewer),
        "Users",
        html! {
            h1 { "TSIG keys" }
            p.muted { "Keys that let secondaries (BIND, Knot, NSD) transfer zones without an address rule." }
            @if let Some(key) = created {
                @let clause = format!("key \"{}\" {{\n    algorithm {};\n    secret \"{}\";\n}};", key.name, key.algorithm.as_str(), key.secret);
                section.card.reveal role="status" {
                    h2 { "Key " (key.name) }
                    p { "Put this in the secondary's configuration now: the secret is shown only once." }
                    div.secret { pre { code #new-key { (clause) } } (views::copy_button(&clause)) }
                }
            }
            section.card {
                h2 { "Create a key" }
                (form_error(error, &["name", "zones"]))
                form method="post" action="/admin/tsig" {
                    (csrf(viewer))
                    div.row {
                        (field("Key name", "name", "", error, "xfr.example.net"))
                        div.field {
                            label for="f-algorithm" { "Algorithm" }
                            select #f-algorithm name="algorithm" { option value="hmac-sha256" { "hmac-sha256" } option value="hmac-sha512" { "hmac-sha512" } }
                        }
                    }
                    (field("Limit to zones (comma-separated; empty: all)", "zones", "", error, "example.com"))
                    button.primary type="submit" { "Create key" }
                }
            }
            section.card {
                @if keys.is_empty() { p.muted { "No keys yet." } } @else {
                    div.table-wrap { table {
                        thead { tr { th { "Name" } th { "Algorithm" } th { "Zones" } th { "Created" } th { span.sr-only { "Actions" } } } }
                        tbody { @for k in keys {
                            tr {
                                td { code { (k.name) } }
                                td { (k.algorithm.as_str()) }
                                td { @if k.zones.is_empty() { "all" } @else { (k.zones.join(", ")) } }
                                td { time { (iso8601(k.created_at)) } }
                                td { form method="post" action=(format!("/admin/tsig/{}/delete", k.name)) data-confirm=(format!("Delete the key {}? Secondaries using it can no longer transfer.", k.name)) {
                                    (csrf(viewer)) button.small.danger type="submit" { "Delete" }
                                } }
                            }
                        } }
                    } }
                }
            }
        },
    )
}

async fn render_tsig(
    viewer: &Viewer,
    svc: web::Data<Service>,
    created: Option<&TsigKey>,
    error: Option<&ValidationError>,
) -> WebResult {
    let actor = viewer.actor.clone();
    let keys = blocking(move || svc.list_tsig_keys(&actor)).await?;
    Ok(html(tsig_page(viewer, &keys, created, error)))
}

pub async fn tsig_keys(viewer: Viewer, svc: web::Data<Service>) -> WebResult {
    viewer.actor.require_admin()?;
    render_tsig(&viewer, svc, None, None).await
}

#[derive(Deserialize)]
pub struct NewKey {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    algorithm: String,
    #[serde(default)]
    zones: String,
}

pub async fn create_tsig_key(viewer: Viewer, svc: web::Data<Service>, form: web::Form<NewKey>) -> WebResult {
    viewer.check_csrf(&form.csrf)?;
    let algorithm = match form.algorithm.parse::<TsigAlgorithm>() {
        Ok(a) => a,
        Err(e) => return render_tsig(&viewer, svc, None, Some(&e)).await,
    };
    let zones: Vec<String> = form.zones.split(',').map(str::trim).filter(|z| !z.is_empty()).map(String::from).collect();
    let (actor, name, service) = (viewer.actor.clone(), form.name.clone(), svc.clone());
    match blocking(move || service.create_tsig_key(&actor, &name, algorithm, &zones)).await {
        Ok(key) => render_tsig(&viewer, svc, Some(&key), None).await,
        Err(WebError::Service(Error::Validation(e))) => render_tsig(&viewer, svc, None, Some(&e)).await,
        Err(WebError::Service(Error::Conflict(m))) => {
            render_tsig(&viewer, svc, None, Some(&ValidationError::new("name", m))).await
        }
        Err(e) => Err(e),
    }
}

pub async fn delete_tsig_key(
    viewer: Viewer,
    svc: web::Data<Service>,
    path: web::Path<String>,
    form: web::Form<super::account::CsrfOnly>,
) -> WebResult {
    viewer.check_csrf(form.csrf())?;
    let (actor, name, service) = (viewer.actor.clone(), path.into_inner(), svc.clone());
    blocking(move || service.delete_tsig_key(&actor, &name)).await?;
    render_tsig(&viewer, svc, None, None).await
}
