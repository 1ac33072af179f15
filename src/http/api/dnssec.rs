//! `/api/v1/dns-zones/{uuid}/dnssec`: a zone's signing, on and off, and what to give the
//! registrar. Never a private key: only DNSKEY, DS and key tags leave the server.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::{ApiResult, Dialect, Errors, blocking, parse_json};
use crate::domain::dnssec::{Algorithm, Denial, KeyState, Phase, Policy, Role};
use crate::domain::iso8601;
use crate::domain::zone::Zone;
use crate::http::auth::Caller;
use crate::service::Service;

/// A zone's DNSSEC state; `{"enabled": false}` for an unsigned zone.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DnssecView {
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "ecdsap256sha256")]
    algorithm: Option<Algorithm>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "nsec")]
    denial: Option<Denial>,
    /// `signed`, or `unsigning` while CDS/CDNSKEY delete records ask the parent to drop its DS.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    state: Option<Phase>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    keys: Vec<KeyView>,
    /// The DS records for the parent zone: `<key tag> <algorithm> 2 <SHA-256 hex>`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ds: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cds_published: Option<bool>,
    /// A KSK/CSK rollover waits for the operator to confirm the parent's DS.
    #[serde(skip_serializing_if = "Option::is_none")]
    awaiting_ds: Option<bool>,
    /// When the zone is next signed again at the latest (ISO 8601).
    #[serde(skip_serializing_if = "Option::is_none")]
    next_signing: Option<String>,
    /// The next scheduled key step, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_rollover: Option<NextStep>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct NextStep {
    /// When it is due (ISO 8601).
    at: String,
    /// What it does.
    step: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
struct KeyView {
    key_tag: u16,
    flags: u16,
    algorithm: u8,
    /// `csk`, `ksk` or `zsk`.
    #[schema(value_type = String)]
    role: Role,
    /// The DNSKEY RDATA in presentation form.
    dnskey: String,
    /// `published` (in DNSKEY, not signing yet), `active`, `retiring` (signing beside its
    /// successor until it goes) or `retired` (published, no longer signing).
    #[schema(value_type = String)]
    state: KeyState,
    created_at: String,
    /// When the key entered its state.
    since: String,
}

pub fn view(zone: &Zone, signed_until: Option<i64>, policy: &Policy) -> DnssecView {
    let Some(dnssec) = &zone.dnssec else {
        let off = DnssecView {
            enabled: false,
            algorithm: None,
            denial: None,
            state: None,
            keys: Vec::new(),
            ds: Vec::new(),
            cds_published: None,
            awaiting_ds: None,
            next_signing: None,
            next_rollover: None,
        };
        return off;
    };
    let keys = dnssec.keys.iter().map(|k| KeyView {
        key_tag: k.tag(),
        flags: k.flags,
        algorithm: k.algorithm.number(),
        role: k.role,
        dnskey: k.dnskey_text(),
        state: k.state,
        created_at: iso8601(k.created_at),
        since: iso8601(k.since),
    });
    DnssecView {
        enabled: true,
        algorithm: Some(dnssec.algorithm),
        denial: Some(dnssec.denial),
        state: Some(dnssec.phase),
        keys: keys.collect(),
        ds: dnssec.keys.iter().filter(|k| k.wants_ds()).map(|k| k.ds_text(&zone.domain)).collect(),
        cds_published: Some(true),
        awaiting_ds: Some(dnssec.awaiting_ds()),
        next_signing: signed_until.map(|t| iso8601(t - crate::service::RESIGN_BEFORE)),
        next_rollover: dnssec.next_step(policy).map(|(at, step)| NextStep { at: iso8601(at), step }),
    }
}

/// How to sign; both optional.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[schema(example = json!({"algorithm": "ed25519", "denial": "nsec"}))]
#[serde(deny_unknown_fields)]
pub struct SigningRequest {
    /// `ecdsap256sha256` (default) or `ed25519`.
    algorithm: Option<String>,
    /// `nsec` (default) or `nsec3`.
    denial: Option<String>,
    /// A KSK and a ZSK (rolled automatically) instead of one CSK.
    #[serde(default)]
    split: bool,
}

/// A KSK/CSK rollover; the algorithm to move to, if another.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[schema(example = json!({"algorithm": "ed25519"}))]
#[serde(deny_unknown_fields)]
pub struct RolloverRequest {
    algorithm: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DisableQuery {
    /// Stop signing now, without waiting for the parent's DS to go.
    #[serde(default)]
    force: bool,
}

/// Runs a DNSSEC call on the blocking pool and answers with the zone's state after it: 201
/// when the call says it signed the zone anew.
async fn state_after(
    svc: web::Data<Service>,
    call: impl FnOnce(&Service) -> crate::service::Result<(Zone, bool)> + Send + 'static,
) -> ApiResult {
    let svc = svc.into_inner();
    let worker = svc.clone();
    let (zone, created) = blocking(move || call(&worker)).await?;
    let body = view(&zone, svc.nameserver().signed_until(&zone.domain), svc.dnssec_policy());
    Ok(if created { HttpResponse::Created().json(body) } else { HttpResponse::Ok().json(body) })
}

/// A body that may be empty.
fn optional_json<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, crate::domain::ValidationError> {
    if body.iter().all(u8::is_ascii_whitespace) { Ok(T::default()) } else { parse_json(body, Dialect::Vps) }
}

#[utoipa::path(
    get, path = "/api/v1/dns-zones/{uuid}/dnssec", tag = "DNSSEC", operation_id = "dnssec_status",
    summary = "A zone's DNSSEC state, keys and DS", params(super::vps::ZonePath),
    responses((status = 200, description = "The state", body = DnssecView), Errors)
)]
pub async fn status(svc: web::Data<Service>, caller: Caller, path: web::Path<String>) -> ApiResult {
    state_after(svc, move |svc| Ok((svc.dnssec(&caller, &path)?, false))).await
}

#[utoipa::path(
    post, path = "/api/v1/dns-zones/{uuid}/dnssec", tag = "DNSSEC", operation_id = "dnssec_enable",
    summary = "Sign a zone", params(super::vps::ZonePath), request_body = SigningRequest,
    responses((status = 201, description = "Signed now", body = DnssecView), (status = 200, description = "Signed already", body = DnssecView), Errors)
)]
pub async fn enable(svc: web::Data<Service>, caller: Caller, path: web::Path<String>, body: web::Bytes) -> ApiResult {
    let request: SigningRequest = optional_json(&body)?;
    let algorithm = Algorithm::parse(request.algorithm.as_deref().unwrap_or("ecdsap256sha256"))?;
    let denial = Denial::parse(request.denial.as_deref().unwrap_or("nsec"))?;
    state_after(svc, move |svc| svc.enable_dnssec(&caller, &path, algorithm, denial, request.split)).await
}

#[utoipa::path(
    delete, path = "/api/v1/dns-zones/{uuid}/dnssec", tag = "DNSSEC", operation_id = "dnssec_disable",
    summary = "Go insecure: CDS/CDNSKEY delete first, unsigned with ?force=true",
    params(super::vps::ZonePath, DisableQuery),
    responses((status = 200, description = "The state after", body = DnssecView), Errors)
)]
pub async fn disable(
    svc: web::Data<Service>,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<DisableQuery>,
) -> ApiResult {
    state_after(svc, move |svc| Ok((svc.disable_dnssec(&caller, &path, query.force)?, false))).await
}

#[utoipa::path(
    post, path = "/api/v1/dns-zones/{uuid}/dnssec/rollover", tag = "DNSSEC", operation_id = "dnssec_rollover",
    summary = "Start a KSK/CSK rollover, optionally to another algorithm: the new key signs beside the old one, CDS/CDNSKEY list both",
    params(super::vps::ZonePath), request_body = RolloverRequest,
    responses((status = 200, description = "The state after", body = DnssecView), Errors)
)]
pub async fn rollover(svc: web::Data<Service>, caller: Caller, path: web::Path<String>, body: web::Bytes) -> ApiResult {
    let request: RolloverRequest = optional_json(&body)?;
    let algorithm = request.algorithm.as_deref().map(Algorithm::parse).transpose()?;
    state_after(svc, move |svc| Ok((svc.rollover_dnssec(&caller, &path, algorithm)?, false))).await
}

#[utoipa::path(
    post, path = "/api/v1/dns-zones/{uuid}/dnssec/confirm-ds", tag = "DNSSEC", operation_id = "dnssec_confirm_ds",
    summary = "Confirm the parent has the new key's DS: the old keys retire and go after the rollover wait",
    params(super::vps::ZonePath),
    responses((status = 200, description = "The state after", body = DnssecView), Errors)
)]
pub async fn confirm_ds(svc: web::Data<Service>, caller: Caller, path: web::Path<String>) -> ApiResult {
    state_after(svc, move |svc| Ok((svc.confirm_ds(&caller, &path)?, false))).await
}
