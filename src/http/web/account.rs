//! Signing in and out, one's password, and one's API tokens (`/account/developers/`, where the
//! VPS.org document sends its users).

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use super::session::{self, Sessions};
use super::views::{self, csrf, field, form_error, notice, page};
use super::{Viewer, WebError, WebResult, blocking, constant_time_eq, html, redirect};
use crate::domain::auth::{Scope, Token, TokenStyle};
use crate::domain::{ValidationError, iso8601, random_string};
use crate::service::{Error, NewToken, Service};

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// Only paths of this site: never an open redirect.
fn safe_next(next: Option<&str>) -> &str {
    // A path on this site only: browsers read `//host`, `/\host` and tabs or newlines inside
    // them as another site.
    let local =
        |n: &&str| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') && !n.chars().any(char::is_control);
    next.filter(local).unwrap_or("/")
}

fn login_page(csrf_token: &str, next: &str, error: Option<&str>, status: actix_web::http::StatusCode) -> Markup {
    let _ = status;
    page(
        "Sign in",
        None,
        "",
        html! {
            section.card.narrow {
                h1 { "Sign in" }
                @if let Some(e) = error { p.notice.bad role="alert" { (e) } }
                form method="post" action="/login" {
                    input type="hidden" name="csrf" value=(csrf_token);
                    input type="hidden" name="next" value=(next);
                    div.field { label for="username" { "Username" } input #username name="username" autocomplete="username" required autofocus; }
                    div.field { label for="password" { "Password" } input #password type="password" name="password" autocomplete="current-password" required; }
                    button.primary type="submit" { "Sign in" }
                }
            }
        },
    )
}

pub async fn login_form(req: HttpRequest, query: web::Query<Next>) -> HttpResponse {
    let token = random_string(32);
    let body = login_page(&token, safe_next(query.next.as_deref()), None, actix_web::http::StatusCode::OK);
    HttpResponse::Ok()
        .cookie(session::cookie(&req, session::LOGIN_COOKIE, token))
        .content_type("text/html; charset=utf-8")
        .body(body.into_string())
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    next: Option<String>,
}

pub async fn login(
    req: HttpRequest,
    svc: web::Data<Service>,
    sessions: web::Data<Sessions>,
    form: web::Form<LoginForm>,
) -> WebResult {
    let form = form.into_inner();
    let expected = req.cookie(session::LOGIN_COOKIE).map(|c| c.value().to_string()).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), form.csrf.as_bytes()) {
        return Err(WebError::Csrf);
    }
    let next = safe_next(form.next.as_deref()).to_string();
    let client = crate::http::client_ip(&req);
    let again = |message: &str, status| {
        let body = login_page(&expected, &next, Some(message), status);
        HttpResponse::build(status).content_type("text/html; charset=utf-8").body(body.into_string())
    };
    let (username, password) = (form.username, form.password);
    match blocking(move || svc.sign_in(&username, &password, client)).await {
        Ok(user) => {
            let id = sessions.create(&user);
            Ok(HttpResponse::SeeOther()
                .cookie(session::cookie(&req, session::COOKIE, id))
                .cookie(session::removal(&req, session::LOGIN_COOKIE))
                .insert_header((actix_web::http::header::LOCATION, next))
                .finish())
        }
        Err(WebError::Service(Error::Unauthorized)) => {
            Ok(again("Wrong username or password.", actix_web::http::StatusCode::UNAUTHORIZED))
        }
        Err(WebError::Service(Error::RateLimited(_))) => Ok(again(
            "Too many failed sign-ins. Try again in a few minutes.",
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
        )),
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

impl CsrfOnly {
    pub fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub async fn logout(
    req: HttpRequest,
    viewer: Viewer,
    sessions: web::Data<Sessions>,
    form: web::Form<CsrfOnly>,
) -> WebResult {
    viewer.check_csrf(&form.csrf)?;
    sessions.end(&req);
    Ok(HttpResponse::SeeOther()
        .cookie(session::removal(&req, session::COOKIE))
        .insert_header((actix_web::http::header::LOCATION, "/login"))
        .finish())
}

fn account_page(viewer: &Viewer, error: Option<&ValidationError>, done: bool) -> Markup {
    page(
        "Account",
        Some(viewer),
        "",
        html! {
            h1 { "Your account" }
            p { "Signed in as " strong { (viewer.user.username) } @if viewer.user.admin { " (administrator)" } "." }
            section.card.narrow {
                h2 { "Change password" }
                @if done { (notice(Some("Your password was changed."))) }
                (form_error(error, &["current", "password", "confirm"]))
                form method="post" action="/account/password" {
                    (csrf(viewer))
                    div.field { label for="current" { "Current password" } input #current type="password" name="current" autocomplete="current-password" required; }
                    (field("New password (at least 10 characters)", "password", "", error, ""))
                    div.field { label for="confirm" { "New password again" } input #confirm type="password" name="confirm" autocomplete="new-password" required; }
                    button.primary type="submit" { "Change password" }
                }
            }
        },
    )
}

pub async fn account(viewer: Viewer, query: web::Query<HashMap<String, String>>) -> HttpResponse {
    html(account_page(&viewer, None, query.contains_key("changed")))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

pub async fn change_password(
    req: HttpRequest,
    viewer: Viewer,
    svc: web::Data<Service>,
    sessions: web::Data<Sessions>,
    form: web::Form<PasswordForm>,
) -> WebResult {
    viewer.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    if form.password != form.confirm {
        return Ok(html(account_page(
            &viewer,
            Some(&ValidationError::new("password", "The two new passwords differ")),
            false,
        )));
    }
    let actor = viewer.actor.clone();
    let change = crate::service::UserChange {
        password: Some(form.password),
        current_password: Some(form.current),
        ..Default::default()
    };
    match blocking(move || svc.update_user(&actor, &actor.user_id, change)).await {
        Ok(user) => {
            // Every other session of the user has ended with the old password; this one goes on.
            sessions.rebind(&req, &user);
            Ok(redirect("/account?changed"))
        }
        Err(WebError::Service(Error::Validation(mut e))) => {
            if e.field.as_deref() == Some("current_password") {
                e.field = Some("current".into());
            }
            Ok(html(account_page(&viewer, Some(&e), false)))
        }
        Err(e) => Err(e),
    }
}

fn tokens_page(
    viewer: &Viewer,
    tokens: &[Token],
    zones: &[String],
    created: Option<&str>,
    created_names: Option<&[String]>,
    error: Option<&ValidationError>,
) -> Markup {
    page(
        "API tokens",
        Some(viewer),
        "API tokens",
        html! {
            h1 { "API tokens" }
            p.muted { "Tokens let scripts use the VPS.org (" code { "/api/v1/dns-zones/" } ") and PocketDNS (" code { "/api/v1/domains/…/dns" } ") APIs as you." }
            @if let Some(token) = created {
                section.card.reveal role="status" {
                    h2 { "Your new token" }
                    p { "Copy it now: it is shown only once and cannot be recovered." }
                    div.secret { code #new-token { (token) } (views::copy_button(token)) }
                    @if let Some(names) = created_names.filter(|n| !n.is_empty()) {
                        @let conf = format!("protocol=dyndns2\nuse=web\nserver=THIS_SERVER\nscript=/nic/update\nlogin={}\npassword='{token}'\n{}\n", viewer.user.username, names.join(","));
                        h3 { "Dynamic DNS for " (names.join(", ")) }
                        p { "This token may change only these names' records. For ddclient (" code { "/etc/ddclient.conf" } "; " code { "THIS_SERVER" } " is this console's host and port), or a router's custom DynDNS: user " code { (viewer.user.username) } ", password the token, URL " code { "/nic/update?hostname=<domain>&myip=<ipaddr>" } "." }
                        pre { code { (conf) } }
                        (views::copy_button(&conf))
                    }
                }
            }
            section.card {
                h2 { "Create a token" }
                (form_error(error, &["name"]))
                form method="post" action="/account/developers/tokens" {
                    (csrf(viewer))
                    (field("Name", "name", "", error, "e.g. deploy script"))
                    fieldset {
                        legend { "Style" }
                        label.inline { input type="radio" name="style" value="vps" checked; " vps_…" }
                        label.inline { input type="radio" name="style" value="sk_live"; " sk_live_…" }
                    }
                    fieldset {
                        legend { "Scopes" }
                        @for scope in Scope::DNS {
                            label.inline { input type="checkbox" name="scope" value=(scope.as_str()) checked; " " (scope.as_str()) }
                        }
                        @if viewer.actor.admin {
                            label.inline { input type="checkbox" name="scope" value=(Scope::Admin.as_str()); " admin (users, all tokens, TSIG keys, backups)" }
                        }
                    }
                    (field("Dynamic DNS: only these names (comma-separated; empty: any)", "names", "", error, "home.example.com"))
                    @if !zones.is_empty() {
                        div.field {
                            label for="f-zones" { "Limit to zones (none selected: all your zones)" }
                            select #f-zones name="zone" multiple size=(zones.len().min(6)) {
                                @for z in zones { option value=(z) { (z) } }
                            }
                        }
                    }
                    button.primary type="submit" { "Create token" }
                }
            }
            section.card {
                h2 { "Your tokens" }
                @if tokens.is_empty() { p.muted { "No tokens yet." } } @else {
                    div.table-wrap { table {
                        thead { tr { th { "Name" } th { "Token" } th { "Scopes" } th { "Zones" } th { "Created" } th { "Last used" } th { span.sr-only { "Actions" } } } }
                        tbody {
                            @for t in tokens {
                                tr.revoked[t.revoked] {
                                    td { (t.label) }
                                    td { code { (t.display_prefix()) "_…" } }
                                    td { @for s in &t.scopes { span.tag { (s.as_str()) } " " } }
                                    td { @if t.zones.is_empty() { "all" } @else { (t.zones.join(", ")) } }
                                    td { time { (iso8601(t.created_at)) } }
                                    td { @if let Some(at) = t.last_used_at { time { (iso8601(at)) } } @else { "never" } }
                                    td {
                                        @if t.revoked { "revoked" } @else {
                                            form method="post" action=(format!("/account/developers/tokens/{}/revoke", t.id)) data-confirm=(format!("Revoke the token “{}”? Scripts using it stop working at once.", t.label)) {
                                                (csrf(viewer))
                                                button.danger type="submit" { "Revoke" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    } }
                }
            }
        },
    )
}

async fn render_tokens(
    viewer: &Viewer,
    svc: web::Data<Service>,
    created: Option<(&str, &[String])>,
    error: Option<&ValidationError>,
) -> WebResult {
    let actor = viewer.actor.clone();
    let (tokens, zones) =
        blocking(move || Ok((svc.list_tokens(&actor, false)?, svc.list_zones(&actor, None)?))).await?;
    let zones: Vec<String> = zones.into_iter().map(|z| z.domain).collect();
    Ok(html(tokens_page(viewer, &tokens, &zones, created.map(|(t, _)| t), created.map(|(_, n)| n), error)))
}

pub async fn tokens(viewer: Viewer, svc: web::Data<Service>) -> WebResult {
    render_tokens(&viewer, svc, None, None).await
}

pub async fn create_token(viewer: Viewer, svc: web::Data<Service>, form: web::Bytes) -> WebResult {
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&form).unwrap_or_default();
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let all = |k: &str| fields.iter().filter(|(n, _)| n == k).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    viewer.check_csrf(&get("csrf"))?;
    let scopes: Result<Vec<Scope>, _> = all("scope").iter().map(|s| s.parse()).collect();
    let style: Result<TokenStyle, _> = get("style").parse();
    let (scopes, style) = match (scopes, style) {
        (Ok(scopes), Ok(style)) if !scopes.is_empty() => (scopes, style),
        (_, Err(e)) | (Err(e), _) => return render_tokens(&viewer, svc, None, Some(&e)).await,
        _ => {
            return render_tokens(
                &viewer,
                svc,
                None,
                Some(&ValidationError::new("scopes", "Choose at least one scope")),
            )
            .await;
        }
    };
    let names: Vec<String> =
        get("names").split(',').map(str::trim).filter(|n| !n.is_empty()).map(str::to_string).collect();
    let new = NewToken { label: get("name"), style, scopes, zones: all("zone"), names, user_id: None };
    let actor = viewer.actor.clone();
    let service = svc.clone();
    match blocking(move || service.create_token(&actor, new)).await {
        Ok((created, token)) => render_tokens(&viewer, svc, Some((&token, &created.names)), None).await,
        Err(WebError::Service(Error::Validation(e))) => render_tokens(&viewer, svc, None, Some(&e)).await,
        Err(e) => Err(e),
    }
}

pub async fn revoke_token(
    viewer: Viewer,
    svc: web::Data<Service>,
    path: web::Path<String>,
    form: web::Form<CsrfOnly>,
) -> WebResult {
    viewer.check_csrf(&form.csrf)?;
    let actor = viewer.actor.clone();
    blocking(move || svc.revoke_token(&actor, &path)).await?;
    Ok(redirect("/account/developers"))
}
