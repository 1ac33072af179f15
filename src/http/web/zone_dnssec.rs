//! The zone page's DNSSEC card: sign the zone, the DS to give the registrar, and the safe way
//! out, with a plain warning before anything that breaks validation.

use std::collections::HashMap;

use actix_web::web;
use maud::{Markup, html};

use super::records::{Extras, rerender};
use super::views::{copy_button, csrf};
use super::{ServerInfo, Viewer, WebError, WebResult, blocking};
use crate::domain::dnssec::{Algorithm, Denial, Phase};
use crate::domain::iso8601;
use crate::domain::zone::Zone;
use crate::service::{Error, RESIGN_BEFORE, Service};

pub(super) fn section(viewer: &Viewer, zone: &Zone, signed_until: Option<i64>) -> Markup {
    let action = |what: &str| format!("/zones/{}/dnssec/{what}", zone.id);
    html! {
        section.card #dnssec {
            h2 { "DNSSEC" }
            @match &zone.dnssec {
                None => {
                    p.muted { "Not signed. Signing lets resolvers check that answers for this zone are really yours. Once signed, give the DS record shown here to your registrar." }
                    form method="post" action=(action("enable")) {
                        (csrf(viewer))
                        div.field {
                            label for="dnssec-algorithm" { "Algorithm" }
                            select #dnssec-algorithm name="algorithm" {
                                option value="ecdsap256sha256" selected { "ECDSA P-256 (13), widely supported" }
                                option value="ed25519" { "Ed25519 (15), smaller signatures" }
                            }
                        }
                        button type="submit" { "Sign this zone" }
                    }
                }
                Some(dnssec) => {
                    p {
                        @if dnssec.phase == Phase::Signed { "Signed" } @else { "Going insecure: still signed, asking the parent (CDS/CDNSKEY delete) to remove its DS" }
                        " · algorithm " (dnssec.algorithm.number()) " · " (format!("{:?}", dnssec.denial).to_uppercase())
                        @if let Some(until) = signed_until { " · signed again by " (iso8601(until - RESIGN_BEFORE)) }
                    }
                    table {
                        thead { tr { th { "Key tag" } th { "Flags" } th { "Algorithm" } th { "Created" } } }
                        tbody { @for key in &dnssec.keys { tr { td { (key.tag()) } td { (key.flags) } td { (key.algorithm.number()) } td { (iso8601(key.created_at)) } } } }
                    }
                    h3 { "DS record for your registrar" }
                    @for key in &dnssec.keys {
                        @let ds = key.ds_text(&zone.domain);
                        pre { code.ds { (ds) } }
                        (copy_button(&ds))
                    }
                    h3 { "Stop signing" }
                    p.warning { "Remove the DS record at your registrar before you stop signing. While the parent zone still has a DS, resolvers that validate will refuse every answer for this zone: it will disappear for most of the Internet." }
                    @if dnssec.phase == Phase::Signed {
                        form method="post" action=(action("disable")) {
                            (csrf(viewer))
                            button type="submit" { "Ask the parent to remove the DS (publish CDS delete)" }
                        }
                    }
                    form method="post" action=(action("disable")) {
                        (csrf(viewer))
                        input type="hidden" name="force" value="true";
                        button.danger type="submit" { "The DS is gone at the registrar: stop signing now" }
                    }
                }
            }
        }
    }
}

/// `POST /zones/{id}/dnssec/{enable|disable}`.
pub async fn change(
    viewer: Viewer,
    svc: web::Data<Service>,
    info: web::Data<ServerInfo>,
    path: web::Path<(String, String)>,
    form: web::Form<HashMap<String, String>>,
) -> WebResult {
    viewer.check_csrf(form.get("csrf").map(String::as_str).unwrap_or_default())?;
    let (zone_id, what) = path.into_inner();
    let (actor, id, service) = (viewer.actor.clone(), zone_id.clone(), svc.clone());
    let notice = match what.as_str() {
        "enable" => {
            let algorithm = Algorithm::parse(form.get("algorithm").map_or("ecdsap256sha256", String::as_str))
                .map_err(|e| WebError::Service(Error::Validation(e)))?;
            blocking(move || service.enable_dnssec(&actor, &id, algorithm, Denial::Nsec)).await?;
            "The zone is signed. Give the DS record below to your registrar."
        }
        "disable" => {
            let force = form.get("force").is_some_and(|v| v == "true");
            blocking(move || service.disable_dnssec(&actor, &id, force)).await?;
            if force {
                "The zone is no longer signed."
            } else {
                "CDS and CDNSKEY delete records are published; the zone stays signed."
            }
        }
        _ => return Err(WebError::Service(Error::NotFound("page"))),
    };
    rerender(&viewer, svc, &info, zone_id, Extras { notice: Some(notice.into()), ..Default::default() }).await
}
