//! DynDNS2 (`/nic/update`, `/update`), as home routers, ddclient and inadyn speak it: HTTP
//! basic auth with a user name and an nsbox token as the password, `hostname` (several,
//! comma-separated), `myip` (the client's address if left out) and `myipv6`; one answer line
//! per host name in dyndns.org's words (`good`, `nochg`, `badauth`, `nohost`, `notfqdn`,
//! `abuse`, `dnserr`, `911`).

use std::net::IpAddr;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use serde::Deserialize;

use crate::service::{Actor, Bucket, Error, RrsetAction, RrsetChange, Service};

/// The TTL dynamic addresses get: short, so a change is seen soon.
const TTL: i64 = 60;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UpdateQuery {
    /// The names to update, comma-separated (each in one of the user's zones).
    #[serde(default)]
    hostname: String,
    /// The IPv4 (or IPv6) address; the client's own address if left out.
    myip: Option<String>,
    /// An IPv6 address as well.
    myipv6: Option<String>,
}

fn answer(status: u16, text: String) -> HttpResponse {
    let mut response = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default());
    if status == 401 {
        response.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"nsbox DynDNS\""));
    }
    response.content_type("text/plain; charset=utf-8").body(text)
}

/// `user:password` of HTTP basic auth.
fn basic_auth(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let (user, password) =
        String::from_utf8(decoded).ok()?.split_once(':').map(|(u, p)| (u.to_string(), p.to_string()))?;
    Some((user, password))
}

/// DynDNS2: sets the A (and AAAA) records of the names to the address. Also at `/update`.
#[utoipa::path(
    get, path = "/nic/update", tag = "DynDNS2", operation_id = "dyndns_update",
    summary = "Set a name's address (HTTP basic auth: user name and an API token)", params(UpdateQuery),
    responses(
        (status = 200, description = "One line per name: `good <ip>`, `nochg <ip>`, `nohost`, `notfqdn`, `dnserr` or `911`", content_type = "text/plain"),
        (status = 401, description = "`badauth`", content_type = "text/plain"),
        (status = 429, description = "`abuse`: over the token's rate limit", content_type = "text/plain"),
    ),
    security(("basic" = [])),
)]
pub async fn update(req: HttpRequest, svc: web::Data<Service>, query: web::Query<UpdateQuery>) -> HttpResponse {
    let client = super::client_ip(&req);
    let Some((user, token)) = basic_auth(&req) else { return answer(401, "badauth\n".into()) };
    let service = svc.clone();
    let actor = match web::block(move || service.authenticate(&token, client)).await {
        Ok(Ok(actor)) if actor.username.eq_ignore_ascii_case(user.trim()) => actor,
        Ok(Err(Error::RateLimited(_))) => return answer(429, "abuse\n".into()),
        Ok(_) => return answer(401, "badauth\n".into()),
        Err(_) => return answer(500, "911\n".into()),
    };
    if svc.limiter.check(&actor.via, Bucket::Update).is_err() {
        return answer(429, "abuse\n".into());
    }
    let ipv4 = query.myip.as_deref().map_or(Some(client), |ip| ip.trim().parse().ok());
    let ipv6 = query.myipv6.as_deref().map(|ip| ip.trim().parse::<IpAddr>().ok());
    let (Some(ip), Some(ipv6)) = (ipv4, ipv6.map_or(Some(None), |v| v.map(Some))) else {
        return answer(400, "dnserr\n".into());
    };
    let hosts: Vec<String> =
        query.hostname.split(',').map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase()).collect();
    let service = svc.clone();
    let lines =
        web::block(move || hosts.iter().map(|host| update_host(&service, &actor, host, ip, ipv6)).collect::<Vec<_>>())
            .await
            .unwrap_or_else(|_| vec!["911".to_string()]);
    answer(200, lines.iter().map(|l| format!("{l}\n")).collect())
}

/// One host name's answer line.
fn update_host(svc: &Service, actor: &Actor, host: &str, ip: IpAddr, ipv6: Option<IpAddr>) -> String {
    if !host.contains('.') || crate::domain::name::parse_domain(host).is_err() {
        return "notfqdn".into();
    }
    let Ok(zones) = svc.list_zones(actor, None) else { return "911".into() };
    // The zone the name is in: the longest domain it ends with.
    let zone = zones
        .iter()
        .filter(|z| host == z.domain || host.ends_with(&format!(".{}", z.domain)))
        .max_by_key(|z| z.domain.len());
    let Some(zone) = zone else { return "nohost".into() };
    let mut changes = Vec::new();
    for address in std::iter::once(ip).chain(ipv6) {
        let rtype = if address.is_ipv4() { "A" } else { "AAAA" };
        let action = RrsetAction::Replace;
        changes.push(RrsetChange {
            name: format!("{host}."),
            rtype: rtype.into(),
            ttl: Some(TTL),
            contents: vec![address.to_string()],
            action,
        });
    }
    let shown = std::iter::once(ip).chain(ipv6).map(|a| a.to_string()).collect::<Vec<_>>().join(",");
    match svc.change_rrsets(actor, &zone.id, &changes) {
        Ok(true) => format!("good {shown}"),
        Ok(false) => format!("nochg {shown}"),
        Err(Error::Storage(_)) => "911".into(),
        Err(Error::RateLimited(_)) => "abuse".into(),
        Err(Error::Forbidden(_)) | Err(Error::NotFound(_)) => "nohost".into(),
        Err(_) => "dnserr".into(),
    }
}
