//! maud components shared by the console's pages: the layout, form fields with their errors,
//! notices, and the error page.

use actix_web::http::StatusCode;
use maud::{DOCTYPE, Markup, html};

use super::Viewer;
use crate::domain::ValidationError;

/// The page frame: head, navigation, main content.
pub fn page(title: &str, viewer: Option<&Viewer>, active: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · nsbox" }
                link rel="icon" href="/static/icon.svg" type="image/svg+xml";
                link rel="stylesheet" href="/static/app.css";
                script src="/static/app.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/" { span.logo aria-hidden="true" { "◆" } " nsbox" }
                    @if let Some(viewer) = viewer {
                        nav aria-label="Main" {
                            (nav_link("/", "Dashboard", active))
                            (nav_link("/zones", "Zones", active))
                            (nav_link("/history", "History", active))
                            (nav_link("/account/developers", "API tokens", active))
                            (nav_link("/api-reference", "API", active))
                            (nav_link("/integrations", "Integrations", active))
                            @if viewer.user.admin { (nav_link("/admin/users", "Users", active)) }
                        }
                        div.who {
                            a href="/account" { (viewer.user.username) }
                            form method="post" action="/logout" {
                                (csrf(viewer))
                                button.link type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main #main { (content) }
            }
        }
    }
}

fn nav_link(href: &str, label: &str, active: &str) -> Markup {
    html! { a href=(href) aria-current=[(active == label).then_some("page")] { (label) } }
}

pub fn csrf(viewer: &Viewer) -> Markup {
    html! { input type="hidden" name="csrf" value=(viewer.csrf); }
}

/// A labelled input with its error (if it is the field that failed) right under it.
pub fn field(label: &str, name: &str, value: &str, error: Option<&ValidationError>, attrs: &str) -> Markup {
    let failed = error.filter(|e| e.field.as_deref() == Some(name));
    let id = format!("f-{name}");
    html! {
        div.field.invalid[failed.is_some()] {
            label for=(id) { (label) }
            input id=(id) name=(name) value=(value) aria-invalid=[failed.map(|_| "true")]
                aria-describedby=[failed.map(|_| format!("{id}-error"))] placeholder=(attrs);
            @if let Some(e) = failed { p.error id=(format!("{id}-error")) role="alert" { (e.message) } }
        }
    }
}

/// An error that belongs to no single field of the form.
pub fn form_error(error: Option<&ValidationError>, fields: &[&str]) -> Markup {
    match error {
        Some(e) if e.field.as_deref().is_none_or(|f| !fields.contains(&f)) => {
            html! { p.notice.bad role="alert" { (e.message) } }
        }
        _ => html! {},
    }
}

pub fn notice(text: Option<&str>) -> Markup {
    html! { @if let Some(t) = text { p.notice.good role="status" { (t) } } }
}

pub fn error_page(status: StatusCode, message: &str) -> Markup {
    let title = match status.as_u16() {
        404 => "Not found",
        403 => "Not allowed",
        429 => "Slow down",
        s if s >= 500 => "Server error",
        _ => "Something is off",
    };
    page(
        title,
        None,
        "",
        html! {
            section.card.error-page {
                p.code { (status.as_u16()) }
                h1 { (title) }
                p { (message) }
                p { a.button href="/" { "Back to the dashboard" } }
            }
        },
    )
}

/// Percent-encodes a query-string value.
pub fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A copy-to-clipboard button for a value (works only with JavaScript; the value stays selectable).
pub fn copy_button(value: &str) -> Markup {
    html! { button.copy type="button" data-copy=(value) hidden { "Copy" } }
}
