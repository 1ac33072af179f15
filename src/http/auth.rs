//! Bearer-token authentication and per-token rate limits for the JSON API.

use std::pin::Pin;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use super::api::ApiError;
use crate::service::{Actor, Bucket, Error, RateStatus, Service};

/// The authenticated caller of an API request. Extracting it checks the bearer token (argon2
/// on a token's first use only, on the blocking pool) and counts the request against the
/// token's budget for its kind.
pub struct Caller(pub Arc<Actor>);

/// How long the token check and rate limit took for this request: `observe` reports it as
/// `Server-Timing: auth;dur=…`, so the check's cost is measured where it is spent.
#[derive(Clone, Copy)]
pub struct TokenCheck(pub std::time::Duration);

impl std::ops::Deref for Caller {
    type Target = Actor;
    fn deref(&self) -> &Actor {
        &self.0
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let started = std::time::Instant::now();
            let service = req.app_data::<web::Data<Service>>().ok_or(ApiError(Error::Unauthorized))?.clone();
            let bearer = bearer_token(&req).ok_or(ApiError(Error::Unauthorized))?;
            let actor = match service.cached_actor(&bearer) {
                Some(actor) => actor,
                None => {
                    let (service, client) = (service.clone(), super::client_ip(&req));
                    web::block(move || service.authenticate(&bearer, client)).await??
                }
            };
            let status = service.limiter.check(&actor.via, bucket(req.method(), req.path())).map_err(|s| {
                service.metrics().rate_limited.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                ApiError(Error::RateLimited(s))
            })?;
            let mut extensions = req.extensions_mut();
            extensions.insert(status);
            extensions.insert(TokenCheck(started.elapsed()));
            Ok(Caller(actor))
        })
    }
}

/// The token of a request: `Authorization: Bearer …`, or `X-API-Key: …` as PowerDNS's clients
/// send it.
fn bearer_token(req: &HttpRequest) -> Option<String> {
    if let Some(key) = req.headers().get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(key.trim().to_string());
    }
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

/// Which of the document's budgets a request spends.
fn bucket(method: &Method, path: &str) -> Bucket {
    let path = path.trim_end_matches('/');
    if path.ends_with("/dns/bulk") || path.ends_with("/dns/template") {
        return Bucket::Bulk;
    }
    match *method {
        Method::POST => Bucket::Create,
        Method::PUT | Method::PATCH => Bucket::Update,
        Method::DELETE => Bucket::Delete,
        _ => Bucket::Read,
    }
}

pub fn set_rate_headers(headers: &mut HeaderMap, status: &RateStatus) {
    headers.insert(header::HeaderName::from_static("x-ratelimit-limit"), HeaderValue::from(status.limit));
    headers.insert(header::HeaderName::from_static("x-ratelimit-remaining"), HeaderValue::from(status.remaining));
    headers.insert(header::HeaderName::from_static("x-ratelimit-reset"), HeaderValue::from(status.reset));
}

/// Middleware: every API answer to a counted request tells the caller its budget.
pub async fn rate_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let status = res.request().extensions().get::<RateStatus>().copied();
    if let Some(status) = status {
        set_rate_headers(res.headers_mut(), &status);
    }
    Ok(res)
}
