//! The only module that imports actix-web. `routes` is the whole route table.

pub mod api;
mod assets;
pub mod auth;
pub mod dyndns;
pub mod web;

use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::middleware::{ErrorHandlers, NormalizePath, from_fn};
use actix_web::web::{delete, get, patch, post, put, resource};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web as aweb};

use api::{admin, dnssec, pdns, pocket, vps, zonefile};

/// Largest request body accepted (a bulk request of 1000 records fits comfortably).
pub const MAX_BODY: usize = 1 << 20;
/// Largest zone file accepted for import (a 50,000-record zone is about 1.5 MiB). An import
/// holds its file and parse in memory, about 16 times the file's size, and imports run one at
/// a time: this bounds what uploads can make the server hold (BENCHMARKS.md, floods).
pub const MAX_ZONE_FILE: usize = 16 << 20;

pub fn routes(cfg: &mut aweb::ServiceConfig) {
    // actix tries routes in order, one regex match per pattern with a `{…}` segment: the API
    // goes first, so that an API call does not pay for the console's routes.
    cfg.service(
        aweb::scope("/api/v1")
            .wrap(from_fn(auth::rate_headers))
            // VPS.org dialect (seed 003)
            .service(resource("/dns-zones").route(get().to(vps::list_zones)).route(post().to(vps::create_zone)))
            .service(
                resource("/dns-zones/{uuid}")
                    .route(get().to(vps::get_zone))
                    .route(patch().to(vps::update_zone))
                    .route(delete().to(vps::delete_zone)),
            )
            .service(
                resource("/dns-zones/{uuid}/records")
                    .route(get().to(vps::zone_records))
                    .route(post().to(vps::create_record)),
            )
            .service(
                resource("/dns-zones/{uuid}/dnssec")
                    .route(get().to(dnssec::status))
                    .route(post().to(dnssec::enable))
                    .route(delete().to(dnssec::disable)),
            )
            .service(resource("/dns-zones/{uuid}/dnssec/rollover").route(post().to(dnssec::rollover)))
            .service(resource("/dns-zones/{uuid}/dnssec/confirm-ds").route(post().to(dnssec::confirm_ds)))
            .service(resource("/dns-zones/{uuid}/export").route(get().to(zonefile::export_zone)))
            .service(
                resource("/dns-zones/{uuid}/import")
                    .app_data(aweb::PayloadConfig::new(MAX_ZONE_FILE))
                    .route(post().to(zonefile::import_zone)),
            )
            .service(resource("/dns-records").route(get().to(vps::list_records)))
            .service(
                resource("/dns-records/{uuid}")
                    .route(get().to(vps::get_record))
                    .route(put().to(vps::put_record))
                    .route(patch().to(vps::patch_record))
                    .route(delete().to(vps::delete_record)),
            )
            // PocketDNS dialect (seed 000)
            .service(resource("/domains").route(get().to(pocket::list_domains)))
            .service(resource("/domains/{domain_id}").route(get().to(pocket::get_domain)))
            .service(
                resource("/domains/{domain_id}/dns")
                    .route(get().to(pocket::list_records))
                    .route(post().to(pocket::create_record)),
            )
            .service(resource("/domains/{domain_id}/dns/bulk").route(post().to(pocket::bulk)))
            .service(resource("/domains/{domain_id}/dns/template").route(post().to(pocket::apply_template)))
            .service(
                resource("/domains/{domain_id}/dns/{record_id}")
                    .route(put().to(pocket::update_record))
                    .route(delete().to(pocket::delete_record)),
            )
            .service(resource("/templates").route(get().to(pocket::list_templates)))
            // Native admin API
            .service(resource("/me").route(get().to(admin::me)))
            .service(resource("/backup").route(get().to(admin::backup)))
            .service(resource("/users").route(get().to(admin::list_users)).route(post().to(admin::create_user)))
            .service(
                resource("/users/{id}")
                    .route(get().to(admin::get_user))
                    .route(patch().to(admin::update_user))
                    .route(delete().to(admin::delete_user)),
            )
            .service(resource("/tokens").route(get().to(admin::list_tokens)).route(post().to(admin::create_token)))
            .service(resource("/tokens/{id}").route(delete().to(admin::revoke_token)))
            .service(
                resource("/tsig-keys").route(get().to(admin::list_tsig_keys)).route(post().to(admin::create_tsig_key)),
            )
            .service(resource("/tsig-keys/{name}").route(delete().to(admin::delete_tsig_key)))
            // PowerDNS dialect (external-dns, cert-manager, lego, octoDNS, Terraform, certbot)
            .service(resource("/servers").route(get().to(pdns::servers)))
            .service(resource("/servers/{server_id}").route(get().to(pdns::server)))
            .service(
                resource("/servers/{server_id}/zones")
                    .route(get().to(pdns::list_zones))
                    .route(post().to(pdns::create_zone)),
            )
            .service(
                resource("/servers/{server_id}/zones/{zone_id}")
                    .route(get().to(pdns::get_zone))
                    .route(patch().to(pdns::patch_zone))
                    .route(put().to(pdns::put_zone))
                    .route(delete().to(pdns::delete_zone)),
            )
            .service(resource("/servers/{server_id}/zones/{zone_id}/export").route(get().to(pdns::export_zone)))
            .service(resource("/servers/{server_id}/zones/{zone_id}/notify").route(put().to(pdns::notify)))
            .service(resource("/servers/{server_id}/zones/{zone_id}/rectify").route(put().to(pdns::rectify)))
            .service(resource("/servers/{server_id}/search-data").route(get().to(pdns::search))),
    );
    cfg.route("/healthz", get().to(healthz))
        .route("/metrics", get().to(metrics))
        .route("/readyz", get().to(readyz))
        .route("/static/{file}", get().to(assets::serve))
        .route("/api/openapi.json", get().to(api::openapi::serve))
        .route("/api", get().to(pdns::versions))
        .route("/nic/update", get().to(dyndns::update))
        .route("/update", get().to(dyndns::update))
        .configure(web::routes);
}

/// Everything the handlers share, built once for all workers.
#[derive(Clone)]
pub struct Shared {
    pub service: aweb::Data<crate::service::Service>,
    pub sessions: aweb::Data<web::session::Sessions>,
    pub info: aweb::Data<web::ServerInfo>,
}

/// Wraps an app the same way in the server and nowhere else: trailing slashes optional,
/// framework errors as JSON under /api/ and as console pages elsewhere.
pub fn app(
    shared: Shared,
) -> actix_web::App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    actix_web::App::new()
        .app_data(shared.service)
        .app_data(shared.sessions)
        .app_data(shared.info)
        .app_data(aweb::PayloadConfig::new(MAX_BODY))
        .app_data(aweb::FormConfig::default().limit(MAX_BODY))
        .app_data(aweb::QueryConfig::default().error_handler(|e, _| {
            api::ApiError::from(crate::domain::ValidationError::general(format!("Invalid query string: {e}"))).into()
        }))
        .configure(routes)
        .default_service(aweb::to(not_found))
        .wrap(ErrorHandlers::new().default_handler(api::json_framework_errors))
        .wrap(from_fn(observe))
        .wrap(NormalizePath::trim())
}

async fn not_found(req: HttpRequest) -> HttpResponse {
    if req.path().starts_with("/api/") {
        actix_web::ResponseError::error_response(&api::ApiError(crate::service::Error::NotFound("Resource")))
    } else {
        web::not_found().await
    }
}

/// Liveness: the process answers HTTP.
async fn healthz() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

/// Requests being answered right now, over all workers (and over all servers of the process:
/// the tests run several, which only sends more of their calls to the pool).
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// Counts one request in flight while it lives.
struct InFlight;

impl InFlight {
    fn enter() -> Self {
        IN_FLIGHT.fetch_add(1, Ordering::Relaxed);
        Self
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Whether the request asking is the only one the server is answering (see `api::small_call`).
fn answering_one_request() -> bool {
    IN_FLIGHT.load(Ordering::Relaxed) <= 1
}

/// Every answer gets a request id (the caller's `X-Request-Id` if it is sane, else a new one)
/// and says how long the server spent on it (`Server-Timing: app;dur=…` ms, and `auth;dur=…`
/// for the token check of an API call); one access-log line per request carries both.
async fn observe(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use actix_web::http::header::{HeaderName, HeaderValue};
    let _counted = InFlight::enter();
    let start = std::time::Instant::now();
    let given = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_string);
    let id = given
        .filter(|v| {
            (1..=64).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .unwrap_or_else(|| crate::domain::random_string(16));
    let (method, path) = (req.method().to_string(), req.path().to_string());
    let mut res = next.call(req).await?;
    let took = start.elapsed();
    let ms = took.as_secs_f64() * 1000.0;
    if let Some(service) = res.request().app_data::<aweb::Data<crate::service::Service>>() {
        let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_string());
        service.metrics().http_answered(&route, res.status().as_u16(), took);
    }
    let mut timing = format!("app;dur={ms:.2}");
    let check = res.request().extensions().get::<auth::TokenCheck>().copied();
    if let Some(auth::TokenCheck(check)) = check {
        timing.push_str(&format!(", auth;dur={:.4}", check.as_secs_f64() * 1000.0));
    }
    let headers = res.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&timing) {
        headers.insert(HeaderName::from_static("server-timing"), value);
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        headers.insert(HeaderName::from_static("x-request-id"), value);
    }
    let https = res.request().connection_info().scheme() == "https";
    security_headers(res.headers_mut(), https);
    tracing::info!(target: "nsbox::access", request_id = %id, %method, %path, status = res.status().as_u16(), ms = format!("{ms:.2}"), "request");
    Ok(res)
}

/// The console loads nothing but its own files, in no frame; browsers take types as given.
const CSP: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
                   form-action 'self'; frame-ancestors 'none'";

fn security_headers(headers: &mut actix_web::http::header::HeaderMap, https: bool) {
    use actix_web::http::header::{self, HeaderValue};
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if https {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
}

/// Readiness: the data file reads and the nameserver has listeners.
async fn readyz(service: aweb::Data<crate::service::Service>, info: aweb::Data<web::ServerInfo>) -> HttpResponse {
    let store_ok = aweb::block(move || service.store().read(|r| crate::store::Read::zones(r).map(|_| ())))
        .await
        .is_ok_and(|r| r.is_ok());
    if store_ok && !info.dns.is_empty() {
        HttpResponse::Ok().content_type("text/plain").body("ready\n")
    } else {
        HttpResponse::ServiceUnavailable().content_type("text/plain").body("not ready\n")
    }
}

/// The client's address: the connection's, or, when that is a trusted proxy, the nearest
/// address in X-Forwarded-For that is not one (anything further left the client could forge).
pub fn client_ip(req: &HttpRequest) -> std::net::IpAddr {
    let peer = req.peer_addr().map_or(std::net::IpAddr::from([0, 0, 0, 0]), |a| a.ip());
    let Some(info) = req.app_data::<aweb::Data<web::ServerInfo>>() else { return peer };
    let trusted = |ip: &std::net::IpAddr| info.trusted_proxies.iter().any(|net| net.contains(ip));
    if !trusted(&peer) {
        return peer;
    }
    let forwarded = req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).collect::<Vec<_>>();
    let hops = forwarded.iter().flat_map(|v| v.split(',')).filter_map(|hop| hop.trim().parse().ok());
    hops.collect::<Vec<std::net::IpAddr>>().into_iter().rev().find(|ip| !trusted(ip)).unwrap_or(peer)
}

/// Prometheus metrics; protected by `--metrics-token` and/or `--metrics-allow` when set.
async fn metrics(
    req: HttpRequest,
    service: aweb::Data<crate::service::Service>,
    info: aweb::Data<web::ServerInfo>,
) -> HttpResponse {
    let token_ok = info.metrics_token.as_deref().is_none_or(|want| {
        let got =
            req.headers().get(actix_web::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
        web::constant_time_eq(got.as_bytes(), format!("Bearer {want}").as_bytes())
    });
    let peer = req.peer_addr().map(|a| a.ip());
    let address_ok =
        info.metrics_allow.is_empty() || peer.is_some_and(|ip| info.metrics_allow.iter().any(|net| net.contains(&ip)));
    if !token_ok || !address_ok {
        return HttpResponse::Forbidden().content_type("text/plain").body("forbidden\n");
    }
    let (metrics, status) = (service.metrics().clone(), service.nameserver().status());
    let (zones, dropped, slipped) = (status.zones, status.rrl_dropped, status.rrl_slipped);
    let (tcp_open, tcp_shed) = (status.tcp_open, status.tcp_shed);
    let records = aweb::block(move || service.record_total()).await.ok().and_then(Result::ok).unwrap_or(0);
    let text = format!(
        "{}# HELP nsbox_rrl_answers_total UDP answers response rate limiting dropped or sent truncated.\n# TYPE nsbox_rrl_answers_total counter\nnsbox_rrl_answers_total{{action=\"dropped\"}} {dropped}\nnsbox_rrl_answers_total{{action=\"slipped\"}} {slipped}\n# HELP nsbox_tcp_connections DNS TCP connections open.\n# TYPE nsbox_tcp_connections gauge\nnsbox_tcp_connections {tcp_open}\n# HELP nsbox_tcp_connections_shed_total DNS TCP connections refused or closed to stay within the limits.\n# TYPE nsbox_tcp_connections_shed_total counter\nnsbox_tcp_connections_shed_total {tcp_shed}\n",
        metrics.render(zones, records)
    );
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text)
}
