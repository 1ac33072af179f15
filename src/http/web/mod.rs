//! The web console: server-rendered pages (maud), forms that work without JavaScript, a
//! session cookie and a CSRF token on every form. Pages call `service` like the API does.

mod account;
mod admin;
mod integrations;
mod records;
mod reference;
pub mod session;
mod views;
mod zone_dnssec;
mod zone_settings;
mod zone_templates;
mod zonefile;
mod zones;

use std::net::SocketAddr;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::{self, get, post};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError};

use crate::domain::auth::{User, credential_fingerprint};
use crate::service::{self, Actor, Service};
use session::Sessions;

/// What the console shows about the running server.
pub struct ServerInfo {
    pub dns: Vec<SocketAddr>,
    /// `/metrics` wants this bearer token, when set.
    pub metrics_token: Option<String>,
    /// `/metrics` answers only these networks, when set.
    pub metrics_allow: Vec<ipnet::IpNet>,
    /// Proxies whose X-Forwarded-For is believed (`client_ip`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", get().to(zones::dashboard))
        .route("/login", get().to(account::login_form))
        .route("/login", post().to(account::login))
        .route("/logout", post().to(account::logout))
        .route("/account", get().to(account::account))
        .route("/account/password", post().to(account::change_password))
        .route("/account/developers", get().to(account::tokens))
        .route("/account/developers/tokens", post().to(account::create_token))
        .route("/account/developers/tokens/{id}/revoke", post().to(account::revoke_token))
        .route("/zones", get().to(zones::list))
        .route("/zones", post().to(zones::create))
        .route("/zones/{id}", get().to(records::zone_page))
        .route("/zones/{id}/delete", get().to(zones::confirm_delete))
        .route("/zones/{id}/delete", post().to(zones::delete))
        .route("/zones/{id}/history", get().to(admin::zone_history))
        .route("/zones/{id}/records", post().to(records::create))
        .route("/zones/{id}/records/bulk", post().to(records::bulk))
        .route("/zones/{id}/template", post().to(zone_templates::template))
        .route("/zones/{id}/settings", post().to(zone_settings::settings))
        .route("/zones/{id}/dnssec/{action}", post().to(zone_dnssec::change))
        .route("/zones/{id}/export", get().to(zonefile::export))
        .service(
            web::resource("/zones/{id}/import")
                .app_data(web::FormConfig::default().limit(crate::http::MAX_ZONE_FILE))
                .route(post().to(zonefile::import)),
        )
        .route("/zones/{id}/records/{rid}/edit", get().to(records::edit_form))
        .route("/zones/{id}/records/{rid}/edit", post().to(records::update))
        .route("/zones/{id}/records/{rid}/delete", post().to(records::delete))
        .route("/history", get().to(admin::history))
        .route("/api-reference", get().to(reference::page_handler))
        .route("/integrations", get().to(integrations::page_handler))
        .route("/admin/backup", get().to(admin::backup))
        .route("/admin/users", get().to(admin::users))
        .route("/admin/users", post().to(admin::create_user))
        .route("/admin/users/{id}", post().to(admin::update_user))
        .route("/admin/tsig", get().to(admin::tsig_keys))
        .route("/admin/tsig", post().to(admin::create_tsig_key))
        .route("/admin/tsig/{name}/delete", post().to(admin::delete_tsig_key));
}

/// The signed-in person of a console request.
pub struct Viewer {
    pub user: User,
    pub actor: Actor,
    pub csrf: String,
}

impl Viewer {
    /// Every state-changing form carries the session's CSRF token.
    pub fn check_csrf(&self, sent: &str) -> Result<(), WebError> {
        if !sent.is_empty() && constant_time_eq(sent.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequest for Viewer {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, WebError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let login =
                || WebError::LoginRequired(req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default());
            let sessions = req.app_data::<web::Data<Sessions>>().ok_or_else(login)?;
            let service = req.app_data::<web::Data<Service>>().ok_or_else(login)?.clone();
            let session = sessions.find(&req).ok_or_else(login)?;
            let user_id = session.user_id.clone();
            let user =
                web::block(move || service.user_by_id(&user_id)).await.map_err(|_| login())?.map_err(|_| login())?;
            if user.disabled || session.credential != credential_fingerprint(&user.password_hash) {
                sessions.end(&req);
                return Err(login());
            }
            Ok(Viewer { actor: Actor::user(&user, "console"), user, csrf: session.csrf })
        })
    }
}

/// A console failure, rendered as a page in the console's style (the API renders the same
/// service errors as JSON).
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("sign-in required")]
    LoginRequired(String),
    #[error("The form expired or did not come from this site. Go back, reload and try again.")]
    Csrf,
    #[error(transparent)]
    Service(#[from] service::Error),
}

impl From<actix_web::error::BlockingError> for WebError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        WebError::Service(service::Error::unfinished_call())
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::LoginRequired(_) => StatusCode::SEE_OTHER,
            WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::Service(e) => crate::http::api::ApiError::status_of(e),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            WebError::LoginRequired(next) => {
                let location = format!("/login?next={}", views::url_encode(next));
                HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
            }
            other => {
                if let WebError::Service(service::Error::Storage(e)) = other {
                    tracing::error!(error = %e, "storage failure");
                }
                let status = self.status_code();
                let message = match other {
                    WebError::Service(service::Error::Storage(crate::store::StoreError::Unavailable(_))) => {
                        crate::http::api::STORAGE_UNAVAILABLE.to_string()
                    }
                    WebError::Service(service::Error::Storage(_)) => "Something went wrong on our side.".to_string(),
                    e => e.to_string(),
                };
                HttpResponse::build(status)
                    .content_type("text/html; charset=utf-8")
                    .body(views::error_page(status, &message).into_string())
            }
        }
    }
}

pub type WebResult = Result<HttpResponse, WebError>;

/// Runs a blocking service call off the async workers.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> service::Result<T> + Send + 'static,
) -> Result<T, WebError> {
    Ok(web::block(f).await??)
}

pub fn html(markup: maud::Markup) -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(markup.into_string())
}

pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, to.to_string())).finish()
}

/// The console's answer to unknown pages.
pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/html; charset=utf-8")
        .body(views::error_page(StatusCode::NOT_FOUND, "There is no page here.").into_string())
}
