//! "Integrations": copy-ready settings for the tools operators already run, filled with this
//! server's own addresses. Tokens are shown once when made, so the snippets name where one
//! goes and link to where it is made.

use actix_web::{HttpRequest, web};
use maud::{Markup, html};

use super::views::page;
use super::{ServerInfo, Viewer, WebResult, html};

const TOKEN: &str = "YOUR_API_TOKEN";

fn snippet(title: &str, note: Markup, text: &str) -> Markup {
    html! {
        section.card {
            h2 { (title) }
            p.muted { (note) }
            pre { code { (text) } }
            button.copy type="button" data-copy=(text) hidden { "Copy" }
        }
    }
}

pub async fn page_handler(req: HttpRequest, viewer: Viewer, info: web::Data<ServerInfo>) -> WebResult {
    let connection = req.connection_info();
    let api = format!("{}://{}", connection.scheme(), connection.host());
    let dns = info.dns.first().map_or_else(|| "127.0.0.1:53".to_string(), ToString::to_string);
    let user = viewer.user.username.clone();
    let content = html! {
        p { "Every tool below works with nsbox unmodified. Make a token for each on "
            a href="/account/developers" { "API tokens" }
            " (limit it to the zones the tool manages) and put it where "
            code { (TOKEN) } " stands. Tools that speak the PowerDNS API send it as " code { "X-API-Key" } "." }
        (snippet("Kubernetes external-dns", html! { "The PowerDNS provider." },
            &format!("args:\n  - --provider=pdns\n  - --pdns-server={api}\n  - --pdns-api-key={TOKEN}\n  - --domain-filter=example.com")))
        (snippet("cert-manager", html! { "The PowerDNS webhook (zachomedia/cert-manager-webhook-pdns), an Issuer solving DNS-01." },
            &format!("solvers:\n  - dns01:\n      webhook:\n        groupName: acme.zacharyseguin.ca\n        solverName: pdns\n        config:\n          host: {api}\n          apiKeySecretRef:\n            name: nsbox-token\n            key: key\n          serverID: localhost")))
        (snippet("lego and Traefik", html! { "lego's " code { "pdns" } " provider; Traefik uses lego, with the same variables." },
            &format!("PDNS_API_URL={api} PDNS_API_KEY={TOKEN} \\\n  lego --dns pdns --domains www.example.com --email you@example.com run\n\n# traefik.yml\ncertificatesResolvers:\n  nsbox:\n    acme:\n      dnsChallenge:\n        provider: pdns")))
        (snippet("Caddy", html! { "The caddy-dns/powerdns module." },
            &format!("tls {{\n  dns powerdns {api} {TOKEN}\n}}")))
        (snippet("octoDNS", html! { "octodns-powerdns; the token comes from the environment." },
            &format!("providers:\n  nsbox:\n    class: octodns_powerdns.PowerDnsProvider\n    host: {}\n    port: {}\n    scheme: {}\n    api_key: env/NSBOX_TOKEN", connection.host().split(':').next().unwrap_or("127.0.0.1"), connection.host().rsplit(':').next().unwrap_or("80"), connection.scheme())))
        (snippet("Terraform", html! { "The PowerDNS provider (pan-net/powerdns)." },
            &format!("provider \"powerdns\" {{\n  server_url = \"{api}\"\n  api_key    = \"{TOKEN}\"\n}}")))
        (snippet("ddclient and home routers (DynDNS2)", html! { "Your user name, and a token (limited to the zone of the name) as the password. Routers: \"custom\" or \"dyndns\" provider with this server and path." },
            &format!("protocol=dyndns2\nuse=web\nserver={}\nscript=/nic/update\nssl={}\nlogin={user}\npassword='{TOKEN}'\nhome.example.com\n\n# router: server {} · path /nic/update?hostname=<domain>&myip=<ipaddr> · user {user} · password {TOKEN}", connection.host(), if connection.scheme() == "https" { "yes" } else { "no" }, connection.host())))
        (snippet("RFC 2136: nsupdate, certbot-dns-rfc2136, lego rfc2136", html! { "A TSIG key from " a href="/admin/tsig" { "TSIG keys" } " (admins), limited to the zone." },
            &format!("# certbot-dns-rfc2136 credentials.ini\ndns_rfc2136_server = {}\ndns_rfc2136_port = {}\ndns_rfc2136_name = upd.example.net.\ndns_rfc2136_secret = SECRET\ndns_rfc2136_algorithm = HMAC-SHA256\n\n# lego\nRFC2136_NAMESERVER={dns} RFC2136_TSIG_KEY=upd.example.net. RFC2136_TSIG_SECRET=SECRET \\\n  RFC2136_TSIG_ALGORITHM=hmac-sha256. lego --dns rfc2136 --domains www.example.com run", dns.rsplit_once(':').map_or(dns.as_str(), |(h, _)| h).trim_matches(['[', ']']), dns.rsplit(':').next().unwrap_or("53"))))
    };
    Ok(html(page("Integrations", Some(&viewer), "/integrations", content)))
}
