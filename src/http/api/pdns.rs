//! The third dialect: the PowerDNS Authoritative HTTP API, as external-dns, cert-manager,
//! lego, octoDNS, Terraform and certbot use it — over the same service, tokens (in
//! `X-API-Key`), scopes, zone limits, rate limits and history as the other two. Zones are
//! named by their domain with the trailing dot; records travel as RRsets whose changes become
//! the smallest per-record change (`service::change_rrsets`). Errors are `{"error": …}`.

use std::collections::BTreeMap;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use serde::{Deserialize, Serialize};

use super::blocking;
use crate::domain::record::{self, Record, RecordType};
use crate::domain::zone::Zone;
use crate::http::auth::Caller;
use crate::service::{Error, RrsetAction, RrsetChange, Service};
use crate::store::StoreError;

/// A service error as PowerDNS words it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PdnsError(Error);

impl From<Error> for PdnsError {
    fn from(e: Error) -> Self {
        PdnsError(e)
    }
}

impl From<super::ApiError> for PdnsError {
    fn from(e: super::ApiError) -> Self {
        PdnsError(e.0)
    }
}

impl From<actix_web::error::BlockingError> for PdnsError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        PdnsError(Error::unfinished_call())
    }
}

impl ResponseError for PdnsError {
    fn status_code(&self) -> StatusCode {
        match &self.0 {
            Error::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            other => super::ApiError::status_of(other),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let message = match &self.0 {
            Error::Storage(StoreError::Unavailable(_)) => super::STORAGE_UNAVAILABLE.to_string(),
            Error::Storage(e) => {
                tracing::error!(error = %e, "storage failure");
                "Internal Server Error".to_string()
            }
            Error::Unauthorized => "Unauthorized".to_string(),
            other => other.to_string(),
        };
        HttpResponse::build(self.status_code()).json(serde_json::json!({ "error": message }))
    }
}

type PdnsResult<T = HttpResponse> = Result<T, PdnsError>;

/// The caller, with a refusal in PowerDNS's words.
pub struct PdnsCaller(Caller);

impl FromRequest for PdnsCaller {
    type Error = PdnsError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PdnsError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload);
        Box::pin(async move { caller.await.map(PdnsCaller).map_err(PdnsError::from) })
    }
}

const SERVER: &str = "localhost";

fn server_json() -> serde_json::Value {
    serde_json::json!({
        "type": "Server", "id": SERVER, "daemon_type": "authoritative", "version": "4.7.0",
        "url": "/api/v1/servers/localhost", "config_url": "/api/v1/servers/localhost/config{/config_setting}",
        "zones_url": "/api/v1/servers/localhost/zones{/zone}",
    })
}

fn check_server(server: &str) -> PdnsResult<()> {
    if server == SERVER { Ok(()) } else { Err(Error::NotFound("Server").into()) }
}

/// `GET /api`: the API versions this server speaks.
pub async fn versions() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!([{"url": "/api/v1", "version": 1}]))
}

#[utoipa::path(get, path = "/api/v1/servers", tag = "PowerDNS", summary = "The one server, `localhost`", responses((status = 200, description = "Servers")))]
pub async fn servers(_caller: PdnsCaller) -> HttpResponse {
    HttpResponse::Ok().json([server_json()])
}

#[utoipa::path(get, path = "/api/v1/servers/{server_id}", tag = "PowerDNS", summary = "The server", params(("server_id" = String, Path)), responses((status = 200, description = "The server"), (status = 404, description = "Not `localhost`")))]
pub async fn server(_caller: PdnsCaller, path: web::Path<String>) -> PdnsResult {
    check_server(&path)?;
    Ok(HttpResponse::Ok().json(server_json()))
}

#[derive(Serialize)]
struct ZoneView {
    id: String,
    name: String,
    #[serde(rename = "type")]
    kind_of_object: &'static str,
    url: String,
    kind: &'static str,
    serial: u32,
    notified_serial: u32,
    edited_serial: u32,
    masters: [String; 0],
    dnssec: bool,
    nsec3param: &'static str,
    nsec3narrow: bool,
    presigned: bool,
    soa_edit: &'static str,
    soa_edit_api: &'static str,
    api_rectify: bool,
    account: &'static str,
    last_check: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    rrsets: Option<Vec<RrsetView>>,
}

#[derive(Serialize, Deserialize, Clone)]
struct RecordView {
    content: String,
    #[serde(default)]
    disabled: bool,
}

#[derive(Serialize)]
struct RrsetView {
    name: String,
    #[serde(rename = "type")]
    rtype: String,
    ttl: u32,
    records: Vec<RecordView>,
    comments: [String; 0],
}

fn zone_view(zone: &Zone, rrsets: Option<Vec<RrsetView>>) -> ZoneView {
    let id = format!("{}.", zone.domain);
    ZoneView {
        url: format!("/api/v1/servers/localhost/zones/{id}"),
        name: id.clone(),
        id,
        kind_of_object: "Zone",
        kind: "Native",
        serial: zone.serial,
        notified_serial: zone.serial,
        edited_serial: zone.serial,
        masters: [],
        dnssec: false,
        nsec3param: "",
        nsec3narrow: false,
        presigned: false,
        soa_edit: "",
        soa_edit_api: "DEFAULT",
        api_rectify: false,
        account: "",
        last_check: 0,
        rrsets,
    }
}

/// A zone's RRsets as served: its records, grouped, and the SOA and apex NS nsbox serves.
fn rrsets(svc: &Service, zone: &Zone, records: &[Record]) -> Vec<RrsetView> {
    let mut sets: BTreeMap<(String, String), RrsetView> = BTreeMap::new();
    let mut add = |name: String, rtype: String, ttl: u32, content: String| {
        sets.entry((name.clone(), rtype.clone()))
            .or_insert_with(|| RrsetView { name, rtype, ttl, records: Vec::new(), comments: [] })
            .records
            .push(RecordView { content, disabled: false });
    };
    let apex = format!("{}.", zone.domain);
    let own_ns = records.iter().any(|r| r.data.name == "@" && r.data.rtype == RecordType::NS);
    if let Some((soa, apex_ns)) = svc.nameserver().apex(&zone.domain) {
        add(apex.clone(), "SOA".into(), 3600, soa);
        for ns in apex_ns.iter().filter(|_| !own_ns) {
            add(apex.clone(), "NS".into(), 3600, format!("{ns}."));
        }
    }
    for r in records {
        if let Some(content) = record::presentation(&r.data) {
            let name = format!("{}.", crate::domain::name::absolute(&r.data.name, &zone.domain));
            add(name, r.data.rtype.to_string(), r.data.ttl, content);
        }
    }
    sets.into_values().collect()
}

/// `example.com.` (PowerDNS's zone id) → `example.com`.
fn domain_of(zone_id: &str) -> String {
    zone_id.trim_end_matches('.').replace("=2E", ".").to_ascii_lowercase()
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ZonesQuery {
    /// Only the zone of this name.
    zone: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/servers/{server_id}/zones", tag = "PowerDNS", summary = "The caller's zones", params(("server_id" = String, Path), ZonesQuery), responses((status = 200, description = "Zones, without their RRsets")))]
pub async fn list_zones(
    svc: web::Data<Service>,
    caller: PdnsCaller,
    path: web::Path<String>,
    query: web::Query<ZonesQuery>,
) -> PdnsResult {
    check_server(&path)?;
    let wanted = query.zone.as_deref().map(domain_of);
    let zones = blocking(move || svc.list_zones(&caller.0, None)).await?;
    let views: Vec<ZoneView> =
        zones.iter().filter(|z| wanted.as_ref().is_none_or(|w| *w == z.domain)).map(|z| zone_view(z, None)).collect();
    Ok(HttpResponse::Ok().json(views))
}

#[derive(Deserialize)]
struct RrsetBody {
    name: String,
    #[serde(rename = "type")]
    rtype: String,
    ttl: Option<i64>,
    changetype: Option<String>,
    #[serde(default)]
    records: Vec<RecordView>,
}

#[derive(Deserialize)]
struct NewZone {
    name: String,
    #[serde(default)]
    nameservers: Vec<String>,
    #[serde(default)]
    rrsets: Vec<RrsetBody>,
}

#[derive(Deserialize)]
struct ZonePatch {
    #[serde(default)]
    rrsets: Vec<RrsetBody>,
}

fn changes(rrsets: Vec<RrsetBody>, default: RrsetAction) -> PdnsResult<Vec<RrsetChange>> {
    rrsets
        .into_iter()
        .map(|set| {
            let action = match set.changetype.as_deref().map(str::to_ascii_uppercase).as_deref() {
                None => default,
                Some("REPLACE") => RrsetAction::Replace,
                Some("DELETE") => RrsetAction::Delete,
                Some("EXTEND") => RrsetAction::Extend,
                Some("PRUNE") => RrsetAction::Prune,
                Some(other) => {
                    let message = format!("Changetype '{other}' is not one of REPLACE, DELETE, EXTEND, PRUNE");
                    return Err(PdnsError(Error::Validation(crate::domain::ValidationError::new(
                        "changetype",
                        message,
                    ))));
                }
            };
            // A disabled record is not served: it is left out of the RRset.
            let contents = set.records.into_iter().filter(|r| !r.disabled).map(|r| r.content).collect();
            Ok(RrsetChange { name: set.name, rtype: set.rtype, ttl: set.ttl, contents, action })
        })
        .collect()
}

fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> PdnsResult<T> {
    serde_json::from_slice(body).map_err(|e| {
        PdnsError(Error::Validation(crate::domain::ValidationError::general(format!("Invalid JSON body: {e}"))))
    })
}

/// The zone with its RRsets, as GET and POST answer it.
async fn full_zone(
    svc: web::Data<Service>,
    caller: std::sync::Arc<crate::service::Actor>,
    id: String,
) -> PdnsResult<ZoneView> {
    let service = svc.clone();
    let (zone, records) = blocking(move || service.get_zone(&caller, &id)).await?;
    let sets = rrsets(&svc, &zone, &records);
    Ok(zone_view(&zone, Some(sets)))
}

#[utoipa::path(post, path = "/api/v1/servers/{server_id}/zones", tag = "PowerDNS", summary = "Create a zone, with `nameservers` and `rrsets`", params(("server_id" = String, Path)), request_body(content = String, content_type = "application/json", example = json!({"name": "example.com.", "kind": "Native", "nameservers": ["ns1.example.net."]})), responses((status = 201, description = "The zone with its RRsets"), (status = 409, description = "It exists"), (status = 422, description = "Invalid")))]
pub async fn create_zone(
    svc: web::Data<Service>,
    caller: PdnsCaller,
    path: web::Path<String>,
    body: web::Bytes,
) -> PdnsResult {
    check_server(&path)?;
    let new: NewZone = parse_body(&body)?;
    let mut sets = changes(new.rrsets, RrsetAction::Replace)?;
    if !new.nameservers.is_empty() {
        let contents = new.nameservers;
        sets.push(RrsetChange {
            name: new.name.clone(),
            rtype: "NS".into(),
            ttl: None,
            contents,
            action: RrsetAction::Replace,
        });
    }
    let actor = caller.0.0.clone();
    let service = svc.clone();
    let domain = domain_of(&new.name);
    let zone = blocking(move || {
        let zone = service.create_zone(&actor, &domain).map_err(|e| match e {
            Error::Validation(v) if v.message.contains("already exists") => {
                Error::Conflict(format!("Domain '{domain}.' already exists"))
            }
            other => other,
        })?;
        if !sets.is_empty()
            && let Err(e) = service.change_rrsets(&actor, &zone.id, &sets)
        {
            // A zone whose records were refused is not left half made.
            let _ = service.delete_zone(&actor, &zone.id);
            return Err(e);
        }
        Ok(zone)
    })
    .await?;
    let view = full_zone(svc, caller.0.0.clone(), zone.id).await?;
    Ok(HttpResponse::Created().json(view))
}

/// The id of the caller's zone that a `/servers/{server_id}/zones/{zone_id}` path names.
async fn zone_id_of(
    svc: &web::Data<Service>,
    caller: &PdnsCaller,
    path: web::Path<(String, String)>,
) -> PdnsResult<String> {
    let (server, zone) = path.into_inner();
    check_server(&server)?;
    let (service, actor, domain) = (svc.clone(), caller.0.0.clone(), domain_of(&zone));
    Ok(blocking(move || service.zone_named(&actor, &domain)).await?.id)
}

#[utoipa::path(get, path = "/api/v1/servers/{server_id}/zones/{zone_id}", tag = "PowerDNS", summary = "A zone with its RRsets", params(("server_id" = String, Path), ("zone_id" = String, Path, description = "The zone's name with its trailing dot")), responses((status = 200, description = "The zone"), (status = 404, description = "No such zone of the caller's")))]
pub async fn get_zone(svc: web::Data<Service>, caller: PdnsCaller, path: web::Path<(String, String)>) -> PdnsResult {
    let id = zone_id_of(&svc, &caller, path).await?;
    Ok(HttpResponse::Ok().json(full_zone(svc, caller.0.0.clone(), id).await?))
}

#[utoipa::path(patch, path = "/api/v1/servers/{server_id}/zones/{zone_id}", tag = "PowerDNS", summary = "Change RRsets: `changetype` REPLACE, DELETE, EXTEND or PRUNE, all or nothing", params(("server_id" = String, Path), ("zone_id" = String, Path)), request_body(content = String, content_type = "application/json", example = json!({"rrsets": [{"name": "www.example.com.", "type": "A", "ttl": 300, "changetype": "REPLACE", "records": [{"content": "192.0.2.1", "disabled": false}]}]})), responses((status = 204, description = "Changed"), (status = 422, description = "Invalid")))]
pub async fn patch_zone(
    svc: web::Data<Service>,
    caller: PdnsCaller,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> PdnsResult {
    let patch: ZonePatch = parse_body(&body)?;
    let sets = changes(patch.rrsets, RrsetAction::Replace)?;
    let id = zone_id_of(&svc, &caller, path).await?;
    let actor = caller.0.0.clone();
    blocking(move || svc.change_rrsets(&actor, &id, &sets)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(put, path = "/api/v1/servers/{server_id}/zones/{zone_id}", tag = "PowerDNS", summary = "Change zone metadata (accepted; nsbox zones are always Native)", params(("server_id" = String, Path), ("zone_id" = String, Path)), responses((status = 204, description = "Accepted")))]
pub async fn put_zone(svc: web::Data<Service>, caller: PdnsCaller, path: web::Path<(String, String)>) -> PdnsResult {
    zone_id_of(&svc, &caller, path).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(delete, path = "/api/v1/servers/{server_id}/zones/{zone_id}", tag = "PowerDNS", summary = "Delete a zone", params(("server_id" = String, Path), ("zone_id" = String, Path)), responses((status = 204, description = "Deleted")))]
pub async fn delete_zone(svc: web::Data<Service>, caller: PdnsCaller, path: web::Path<(String, String)>) -> PdnsResult {
    let id = zone_id_of(&svc, &caller, path).await?;
    let actor = caller.0.0.clone();
    blocking(move || svc.delete_zone(&actor, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/api/v1/servers/{server_id}/zones/{zone_id}/export", tag = "PowerDNS", summary = "The zone as a zone file", params(("server_id" = String, Path), ("zone_id" = String, Path)), responses((status = 200, description = "The zone file", content_type = "text/plain")))]
pub async fn export_zone(svc: web::Data<Service>, caller: PdnsCaller, path: web::Path<(String, String)>) -> PdnsResult {
    let id = zone_id_of(&svc, &caller, path).await?;
    let actor = caller.0.0.clone();
    let (_, text) = blocking(move || svc.export_zone(&actor, &id)).await?;
    Ok(HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(text))
}

#[utoipa::path(put, path = "/api/v1/servers/{server_id}/zones/{zone_id}/notify", tag = "PowerDNS", summary = "Send NOTIFY to the zone's secondaries", params(("server_id" = String, Path), ("zone_id" = String, Path)), responses((status = 200, description = "Queued")))]
pub async fn notify(svc: web::Data<Service>, caller: PdnsCaller, path: web::Path<(String, String)>) -> PdnsResult {
    let id = zone_id_of(&svc, &caller, path).await?;
    let actor = caller.0.0.clone();
    blocking(move || svc.notify_zone(&actor, &id)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"result": "Notification queued"})))
}

#[utoipa::path(put, path = "/api/v1/servers/{server_id}/zones/{zone_id}/rectify", tag = "PowerDNS", summary = "Rectify (nothing to do: nsbox keeps zones rectified)", params(("server_id" = String, Path), ("zone_id" = String, Path)), responses((status = 200, description = "Done")))]
pub async fn rectify(svc: web::Data<Service>, caller: PdnsCaller, path: web::Path<(String, String)>) -> PdnsResult {
    zone_id_of(&svc, &caller, path).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"result": "Rectified"})))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// What to look for in names and contents; `*` matches anything (and is the default).
    q: Option<String>,
    /// At most this many results (100 if left out).
    max: Option<usize>,
}

#[utoipa::path(get, path = "/api/v1/servers/{server_id}/search-data", tag = "PowerDNS", summary = "Search the caller's zones and records", params(("server_id" = String, Path), SearchQuery), responses((status = 200, description = "Matches")))]
pub async fn search(
    svc: web::Data<Service>,
    caller: PdnsCaller,
    path: web::Path<String>,
    query: web::Query<SearchQuery>,
) -> PdnsResult {
    check_server(&path)?;
    let needle = query.q.as_deref().unwrap_or("*").to_ascii_lowercase();
    let parts: Vec<String> = needle.split('*').map(str::to_string).collect();
    let matches = move |text: &str| {
        let text = text.to_ascii_lowercase();
        let mut at = 0;
        parts.iter().all(|p| match text[at..].find(p.as_str()) {
            Some(i) => {
                at += i + p.len();
                true
            }
            None => false,
        })
    };
    let max = query.max.unwrap_or(100);
    let actor = caller.0.0.clone();
    let (zones, records) =
        blocking(move || Ok::<_, Error>((svc.list_zones(&actor, None)?, svc.search_records(&actor, None, None)?)))
            .await?;
    let mut out = Vec::new();
    for zone in zones.iter().filter(|z| matches(&format!("{}.", z.domain))) {
        out.push(serde_json::json!({"object_type": "zone", "name": format!("{}.", zone.domain), "zone_id": format!("{}.", zone.domain)}));
    }
    for r in &records {
        let Some(zone) = zones.iter().find(|z| z.id == r.zone_id) else { continue };
        let name = format!("{}.", crate::domain::name::absolute(&r.data.name, &zone.domain));
        let content = record::presentation(&r.data).unwrap_or_default();
        if matches(&name) || matches(&content) {
            out.push(serde_json::json!({
                "object_type": "record", "name": name, "type": r.data.rtype.to_string(), "content": content,
                "ttl": r.data.ttl, "disabled": false, "zone": format!("{}.", zone.domain), "zone_id": format!("{}.", zone.domain),
            }));
        }
    }
    out.truncate(max);
    Ok(HttpResponse::Ok().json(out))
}
