//! The OpenAPI 3.1 document of both dialects and the admin API, generated from the handlers'
//! own annotations and the types they (de)serialise, so it cannot drift from the code.

use actix_web::HttpResponse;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use super::{admin, dnssec, pdns, pocket, vps, zonefile};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "nsbox API",
        description = "Two vendor dialects over one store, plus nsbox's admin API. The VPS.org dialect (`/dns-zones`, `/dns-records`) and the PocketDNS dialect (`/domains/{domain_id}/dns`) share ids: a zone's `dom_…` id is VPS.org's `uuid` and PocketDNS's `domain_id`; a record's `rec_…` id is the same in both. Every path also answers with a trailing slash. Authenticate with `Authorization: Bearer vps_…` or `Bearer sk_live_…`.",
        license(name = "MIT"),
    ),
    paths(
        vps::list_zones, vps::create_zone, vps::get_zone, vps::update_zone, vps::delete_zone,
        vps::zone_records, vps::create_record, dnssec::status, dnssec::enable, dnssec::disable, dnssec::rollover, dnssec::confirm_ds, zonefile::export_zone, zonefile::import_zone,
        vps::list_records, vps::get_record, vps::put_record, vps::patch_record, vps::delete_record,
        pocket::list_domains, pocket::get_domain, pocket::list_records, pocket::create_record,
        pocket::bulk, pocket::apply_template, pocket::update_record, pocket::delete_record,
        pocket::list_templates,
        admin::me, admin::backup, admin::list_users, admin::create_user, admin::get_user,
        admin::update_user, admin::delete_user, admin::list_tokens, admin::create_token,
        admin::revoke_token, admin::list_tsig_keys, admin::create_tsig_key, admin::delete_tsig_key,
        pdns::servers, pdns::server, pdns::list_zones, pdns::create_zone, pdns::get_zone, pdns::patch_zone,
        pdns::put_zone, pdns::delete_zone, pdns::export_zone, pdns::notify, pdns::rectify, pdns::search,
        crate::http::dyndns::update,
    ),
    components(schemas(super::ErrorBody)),
    tags(
        (name = "VPS.org zones and records", description = "The dialect of VPS.org's zones API (seed 003): zones by `uuid`, records with `record_type` and `value`, default TTL 3600, plain JSON lists with optional `?page=&page_size=`, BIND zone files in and out. Its console words: STENDIN = GET, KOZ = POST, JÊBIRIN = DELETE."),
        (name = "PocketDNS records", description = "The dialect of PocketDNS's records API (seed 000): records under `/domains/{domain_id}/dns` with `type` and `content`, default TTL 300, bulk creation and templates. A body of the wrong shape is a 422 `unprocessable_entity`."),
        (name = "DNSSEC", description = "Signing a zone online: `POST …/dnssec` signs it (one CSK, ECDSA P-256 or Ed25519, NSEC), `GET` shows the keys and the DS to give the registrar, `DELETE` goes insecure safely: CDS/CDNSKEY delete records first, unsigned with `?force=true` once the parent's DS is gone. Tokens need `dns:update` to change it, `dns:read` to see it."),
        (name = "Admin", description = "nsbox's own API: the caller, users, API tokens, TSIG keys and backups."),
        (name = "DynDNS2", description = "The protocol of dyndns.org, for home routers, ddclient and inadyn: `GET /nic/update?hostname=home.example.com&myip=192.0.2.7` with HTTP basic auth (your user name, and an API token as the password). Answers are plain text, one line per name."),
        (name = "PowerDNS", description = "The subset of the PowerDNS Authoritative HTTP API that external-dns, cert-manager, lego, octoDNS, Terraform, dnscontrol and certbot use, over the same zones, tokens and scopes: authenticate with `X-API-Key: <an nsbox token>`; the server is `localhost`; zones are named by their domain with its trailing dot; records change as RRsets; errors are `{\"error\": …}`. `GET /api` lists the API versions."),
    ),
    modifiers(&BearerToken),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

/// Every call takes an API token as a bearer token.
struct BearerToken;

impl utoipa::Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some("An API token: `vps_…` or `sk_live_…`, from the console or `nsbox token create`"))
            .build();
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
        let basic = HttpBuilder::new()
            .scheme(HttpAuthScheme::Basic)
            .description(Some("DynDNS2: your user name, and an API token as the password"))
            .build();
        components.add_security_scheme("basic", SecurityScheme::Http(basic));
    }
}

/// The document, built once: it never changes while the binary runs.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    DOCUMENT.get_or_init(ApiDoc::openapi)
}

/// `GET /api/openapi.json`, public like any API reference.
pub async fn serve() -> HttpResponse {
    HttpResponse::Ok().json(document())
}
