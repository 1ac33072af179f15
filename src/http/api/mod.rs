//! JSON API: the two vendor dialects and the native admin API, all thin: parse → service →
//! render. One error type renders every failure as `{"detail", "error_code", "field"}`.

pub mod admin;
pub mod dnssec;
pub mod openapi;
pub mod pdns;
pub mod pocket;
pub mod vps;
pub mod zonefile;

use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::ValidationError;
use crate::service::{self, Error};
use crate::store::StoreError;

/// What a person is told when the data file cannot be written.
pub const STORAGE_UNAVAILABLE: &str = "The data file cannot be written (I/O error or full disk); nothing was changed. Writes resume after nsbox is restarted.";

/// A service error on its way out as JSON.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ApiError(#[from] pub Error);

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        ApiError(Error::Validation(e))
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        ApiError(Error::unfinished_call())
    }
}

/// Every API error, in both dialects and the admin API.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(example = json!({"detail": "MX records require a priority value", "error_code": "validation_error", "field": "priority"}))]
pub struct ErrorBody {
    /// What went wrong, for a person.
    detail: String,
    /// validation_error, unauthorized, forbidden, not_found, conflict, unprocessable_entity,
    /// rate_limit_exceeded, payload_too_large, method_not_allowed, storage_unavailable or
    /// internal_error.
    error_code: String,
    /// The request field at fault, when there is one.
    field: Option<String>,
}

fn error_response(status: StatusCode, code: &str, detail: &str, field: Option<&str>) -> HttpResponse {
    let body = ErrorBody { detail: detail.to_string(), error_code: code.to_string(), field: field.map(str::to_string) };
    HttpResponse::build(status).json(body)
}

/// The errors any authenticated API call can answer with, as documented in the OpenAPI file.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // Only described, never built: ApiError renders these.
pub enum Errors {
    /// Invalid input: the body, a field or a query parameter.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// No token, or an unknown, revoked or malformed one.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The token lacks the scope the call needs (the detail names it), or the call is for admins.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// No such object, or not the caller's.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// The record or zone already exists, or breaks the CNAME rule.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// Over the token's rate limit; see Retry-After and X-RateLimit-*.
    #[response(status = 429)]
    RateLimited(ErrorBody),
    /// The data file cannot be written (an I/O error or a full disk): nothing was changed, and
    /// writes are refused until nsbox is restarted; reads and the nameserver go on.
    #[response(status = 503)]
    StorageUnavailable(ErrorBody),
}

impl ApiError {
    /// The HTTP status of a service error, for the API and the console alike.
    pub fn status_of(error: &Error) -> StatusCode {
        match error {
            Error::Validation(v) if v.code == "unprocessable_entity" => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Validation(_) => StatusCode::BAD_REQUEST,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::Unauthorized => StatusCode::UNAUTHORIZED,
            Error::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Error::Storage(StoreError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        Self::status_of(&self.0)
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (code, field) = match &self.0 {
            Error::Validation(v) => (v.code, v.field.as_deref()),
            Error::NotFound(_) => ("not_found", None),
            Error::Conflict(_) => ("conflict", None),
            Error::Forbidden(_) => ("forbidden", None),
            Error::Unauthorized => ("unauthorized", None),
            Error::RateLimited(_) => ("rate_limit_exceeded", None),
            Error::Storage(e) => {
                tracing::error!(error = %e, "storage failure");
                match e {
                    StoreError::Unavailable(_) => ("storage_unavailable", None),
                    _ => ("internal_error", None),
                }
            }
        };
        let detail = match &self.0 {
            Error::Storage(StoreError::Unavailable(_)) => STORAGE_UNAVAILABLE.to_string(),
            Error::Storage(_) => "Internal server error".to_string(),
            other => other.to_string(),
        };
        let mut response = error_response(status, code, &detail, field);
        match &self.0 {
            Error::Unauthorized => {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Error::RateLimited(status) => {
                super::auth::set_rate_headers(response.headers_mut(), status);
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(status.retry_after()));
            }
            _ => {}
        }
        response
    }
}

pub type ApiResult<T = HttpResponse> = Result<T, ApiError>;

/// Which way a body that is valid JSON but of the wrong shape is reported.
#[derive(Clone, Copy, PartialEq)]
pub enum Dialect {
    /// VPS.org and the admin API: 400 validation_error.
    Vps,
    /// PocketDNS: 422 unprocessable_entity ("Invalid DNS record format").
    Pocket,
}

/// Parses a JSON body: syntax errors (and invalid UTF-8) are 400; a wrong shape names the field.
pub fn parse_json<T: DeserializeOwned>(body: &[u8], dialect: Dialect) -> Result<T, ValidationError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ValidationError::general(format!("Malformed JSON body: {e}")))?;
    from_value(value, dialect)
}

pub fn from_value<T: DeserializeOwned>(value: serde_json::Value, dialect: Dialect) -> Result<T, ValidationError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = (path != ".").then_some(path);
        let message = format!("Invalid request body: {}", e.inner());
        match dialect {
            Dialect::Vps => ValidationError { field, code: "validation_error", message },
            Dialect::Pocket => ValidationError::format(field, message),
        }
    })
}

/// Turns every error the framework answers by itself (unknown route, wrong method, body too
/// large, bad path) into the same JSON error body as ours.
pub fn json_framework_errors<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = res
        .response()
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json || !res.request().path().starts_with("/api/") {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (code, detail) = match status {
        StatusCode::NOT_FOUND => ("not_found", "Not found"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "Method not allowed"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "Request body too large"),
        s if s.is_server_error() => ("internal_error", "Internal server error"),
        _ => ("validation_error", "Bad request"),
    };
    let (req, _) = res.into_parts();
    let response: HttpResponse<BoxBody> = error_response(status, code, detail, None);
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, response).map_into_right_body()))
}

/// `?page=&page_size=` of the VPS.org lists: absent means the whole list.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number from 1; with it the answer carries `Link` and `X-Total-Count` headers.
    #[param(value_type = Option<u32>, minimum = 1)]
    page: Option<String>,
    /// Items per page, 1–1000 (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    page_size: Option<String>,
}

const MAX_PAGE_SIZE: usize = 1000;
const DEFAULT_PAGE_SIZE: usize = 100;

impl PageQuery {
    fn parse(&self) -> Result<Option<(usize, usize)>, ValidationError> {
        if self.page.is_none() && self.page_size.is_none() {
            return Ok(None);
        }
        let number =
            |text: &Option<String>, field: &str, default: usize, max: usize| match text {
                None => Ok(default),
                Some(t) => t.parse::<usize>().ok().filter(|n| (1..=max).contains(n)).ok_or_else(|| {
                    ValidationError::new(field, format!("{field} must be a whole number from 1 to {max}"))
                }),
            };
        Ok(Some((
            number(&self.page, "page", 1, 1_000_000)?,
            number(&self.page_size, "page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?,
        )))
    }

    /// The whole list, or one page of it with `Link` and `X-Total-Count` headers.
    pub fn respond<T: Serialize>(&self, req: &HttpRequest, items: Vec<T>) -> ApiResult {
        let Some((page, size)) = self.parse()? else {
            return Ok(HttpResponse::Ok().json(items));
        };
        let total = items.len();
        let slice: Vec<T> = items.into_iter().skip((page - 1).saturating_mul(size)).take(size).collect();
        let last = total.div_ceil(size).max(1);
        let link = |p: usize, rel: &str| format!("<{}?page={p}&page_size={size}>; rel=\"{rel}\"", req.path());
        let mut links = vec![link(1, "first"), link(last, "last")];
        if page > 1 {
            links.push(link((page - 1).min(last), "prev"));
        }
        if page < last {
            links.push(link(page + 1, "next"));
        }
        Ok(HttpResponse::Ok()
            .insert_header(("X-Total-Count", total.to_string()))
            .insert_header((header::LINK, links.join(", ")))
            .json(slice))
    }
}

/// Runs a blocking service call off the async workers.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> service::Result<T> + Send + 'static) -> ApiResult<T> {
    Ok(web::block(f).await??)
}

/// Runs a small service call (one record or one zone row, at most one commit). When it is the
/// only request the server is answering, it runs right here on the HTTP worker: the hop to the
/// blocking pool and back costs two thread wake-ups, 12 % of a create on a small VM
/// (BENCHMARKS.md). With other requests in flight it goes to the pool, so that none of them
/// waits behind its disk flush; one arriving meanwhile waits at most for this call.
pub async fn small_call<T: Send + 'static>(f: impl FnOnce() -> service::Result<T> + Send + 'static) -> ApiResult<T> {
    if !super::answering_one_request() {
        return blocking(f).await;
    }
    // As on the pool, a panic answers 500 instead of taking the connection down with it.
    let outcome =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|_| ApiError(Error::unfinished_call()))?;
    Ok(outcome?)
}
