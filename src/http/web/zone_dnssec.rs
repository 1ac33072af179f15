//! The zone page's DNSSEC card: sign the zone, the DS to give the registrar, and the safe way
//! out, with a plain warning before anything that breaks validation.

use std::collections::HashMap;

use actix_web::web;
use maud::{Markup, html};

use super::records::{Extras, rerender};
use super::views::{copy_button, csrf};
use super::{ServerInfo, Viewer, WebError, WebResult, blocking};
use crate::domain::dnssec::{Algorithm, Denial, Phase, Policy, word};
use crate::domain::iso8601;
use crate::domain::zone::Zone;
use crate::service::{Error, RESIGN_BEFORE, Service};

pub(super) fn section(viewer: &Viewer, zone: &Zone, signed_until: Option<i64>, policy: &Policy) -> Markup {
    let action = |what: &str| format!("/zones/{}/dnssec/{what}", zone.id);
    html! {
        section.card #dnssec {
            h2 { "DNSSEC" }
            @match &zone.dnssec {
                None => {
                    p.muted { "Not signed. Signing lets resolvers check that answers for this zone are really yours. Once signed, give the DS record shown here to your registrar." }
                    form method="post" action=(action("enable")) {
                        (csrf(viewer))
                        div.row {
                            (algorithm_field("dnssec-algorithm"))
                            div.field {
                                label for="dnssec-denial" { "Denial of existence" }
                                select #dnssec-denial name="denial" {
                                    option value="nsec" selected { "NSEC" }
                                    option value="nsec3" { "NSEC3 (names hashed)" }
                                }
                            }
                        }
                        label { input type="checkbox" name="split" value="true"; " A KSK and a ZSK (the ZSK is rolled automatically) instead of one key" }
                        button type="submit" { "Sign this zone" }
                    }
                }
                Some(dnssec) => {
                    p {
                        @if dnssec.phase == Phase::Signed { "Signed" } @else { "Going insecure: still signed, asking the parent (CDS/CDNSKEY delete) to remove its DS" }
                        " · algorithm " (dnssec.algorithm.number()) " · " (word(&dnssec.denial).to_uppercase())
                        @if let Some(until) = signed_until { " · signed again by " (iso8601(until - RESIGN_BEFORE)) }
                    }
                    @if let Some((at, step)) = dnssec.next_step(policy) {
                        p.next-rollover { "Next key step: " (step) ", " (iso8601(at)) "." }
                    }
                    table.keys {
                        thead { tr { th { "Key tag" } th { "Role" } th { "Algorithm" } th { "State" } th { "Since" } } }
                        tbody {
                            @for key in &dnssec.keys {
                                tr { td { (key.tag()) } td { (word(&key.role)) } td { (key.algorithm.number()) } td { (word(&key.state)) } td { (iso8601(key.since)) } }
                            }
                        }
                    }
                    h3 { "DS record for your registrar" }
                    @if dnssec.awaiting_ds() {
                        p.warning { "A key rollover is under way: give the registrar the DS of the new key (both may stand there for a while), then confirm here. Until you confirm, the old key keeps signing." }
                    }
                    @for key in dnssec.keys.iter().filter(|k| k.wants_ds()) {
                        @let ds = key.ds_text(&zone.domain);
                        pre { code.ds { (ds) } }
                        (copy_button(&ds))
                    }
                    @if dnssec.awaiting_ds() {
                        form method="post" action=(action("confirm-ds")) {
                            (csrf(viewer))
                            button type="submit" { "The registrar has the new DS: retire the old key" }
                        }
                    } @else if dnssec.phase == Phase::Signed {
                        h3 { "Roll the key" }
                        p.muted { "A new key signs beside the old one at once; nothing breaks while the registrar is updated. Choose another algorithm to change algorithms the same way." }
                        form method="post" action=(action("rollover")) {
                            (csrf(viewer))
                            (algorithm_field("dnssec-rollover-algorithm"))
                            button type="submit" { "Start a key rollover" }
                        }
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

fn algorithm_field(id: &str) -> Markup {
    html! {
        div.field {
            label for=(id) { "Algorithm" }
            select id=(id) name="algorithm" {
                option value="ecdsap256sha256" selected { "ECDSA P-256 (13), widely supported" }
                option value="ed25519" { "Ed25519 (15), smaller signatures" }
            }
        }
    }
}

/// `POST /zones/{id}/dnssec/{enable|disable|rollover|confirm-ds}`.
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
            let denial = Denial::parse(form.get("denial").map_or("nsec", String::as_str))
                .map_err(|e| WebError::Service(Error::Validation(e)))?;
            let split = form.get("split").is_some_and(|v| v == "true");
            blocking(move || service.enable_dnssec(&actor, &id, algorithm, denial, split)).await?;
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
        "rollover" => {
            let algorithm = Algorithm::parse(form.get("algorithm").map_or("ecdsap256sha256", String::as_str))
                .map_err(|e| WebError::Service(Error::Validation(e)))?;
            blocking(move || service.rollover_dnssec(&actor, &id, Some(algorithm))).await?;
            "A new key signs beside the old one. Give the registrar its DS, then confirm."
        }
        "confirm-ds" => {
            blocking(move || service.confirm_ds(&actor, &id)).await?;
            "The old key is retiring; it goes once caches have forgotten it."
        }
        _ => return Err(WebError::Service(Error::NotFound("page"))),
    };
    rerender(&viewer, svc, &info, zone_id, Extras { notice: Some(notice.into()), ..Default::default() }).await
}
