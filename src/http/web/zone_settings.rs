//! The zone page's settings card: SOA timers, transfer and NOTIFY targets, catalog group.

use std::collections::HashMap;

use actix_web::web;
use maud::{Markup, html};

use super::records::{Extras, rerender};
use super::views::{self, csrf, form_error};
use super::{ServerInfo, Viewer, WebError, WebResult, blocking};
use crate::domain::ValidationError;
use crate::domain::zone::Zone;
use crate::service::{Error, Service};

pub(super) fn section(viewer: &Viewer, zone: &Zone, catalog: bool, error: Option<&ValidationError>) -> Markup {
    let list = |items: Vec<String>| items.join(", ");
    html! {
        section.card #settings {
            h2 { "Zone settings" }
            p.muted { "SOA timers, and which secondaries may transfer this zone and are told of its changes (besides the server-wide ones)." }
            (form_error(error, &["refresh", "retry", "expire", "minimum", "allow_transfer", "notify", "catalog_group"]))
            form.settings method="post" action=(format!("/zones/{}/settings", zone.id)) {
                (csrf(viewer))
                div.row {
                    (views::field("Refresh (s)", "refresh", &zone.soa.refresh.to_string(), error, ""))
                    (views::field("Retry (s)", "retry", &zone.soa.retry.to_string(), error, ""))
                    (views::field("Expire (s)", "expire", &zone.soa.expire.to_string(), error, ""))
                    (views::field("Negative TTL (s)", "minimum", &zone.soa.minimum.to_string(), error, ""))
                }
                (views::field("Allow transfers from (addresses or networks, comma-separated)", "allow_transfer", &list(zone.allow_transfer.iter().map(ToString::to_string).collect()), error, "192.0.2.53, 2001:db8::/64"))
                (views::field("Send NOTIFY to (address:port, comma-separated)", "notify", &list(zone.notify.iter().map(ToString::to_string).collect()), error, "192.0.2.53:53"))
                @if catalog {
                    (views::field("Catalog group (secondaries apply their settings per group; empty for none)", "catalog_group", zone.catalog_group.as_deref().unwrap_or_default(), error, "anycast"))
                }
                button type="submit" { "Save settings" }
            }
        }
    }
}

pub async fn settings(
    viewer: Viewer,
    svc: web::Data<Service>,
    info: web::Data<ServerInfo>,
    path: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
) -> WebResult {
    viewer.check_csrf(form.get("csrf").map(String::as_str).unwrap_or_default())?;
    let zone_id = path.into_inner();
    let number = |field: &str| -> Result<Option<u32>, ValidationError> {
        match form.get(field).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| ValidationError::new(field, format!("'{v}' is not a number of seconds"))),
        }
    };
    let list = |field: &str| {
        form.get(field).map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect())
    };
    let parsed = (|| {
        Ok::<_, ValidationError>(crate::domain::zone::ZoneSettings {
            refresh: number("refresh")?,
            retry: number("retry")?,
            expire: number("expire")?,
            minimum: number("minimum")?,
            allow_transfer: list("allow_transfer"),
            notify: list("notify"),
            catalog_group: form.get("catalog_group").cloned(),
        })
    })();
    let outcome = match parsed {
        Ok(settings) => {
            let (actor, id, service) = (viewer.actor.clone(), zone_id.clone(), svc.clone());
            blocking(move || service.update_zone_settings(&actor, &id, &settings)).await.map(|_| ())
        }
        Err(e) => Err(WebError::Service(Error::Validation(e))),
    };
    match outcome {
        Ok(()) => {
            rerender(
                &viewer,
                svc,
                &info,
                zone_id,
                Extras { notice: Some("Zone settings saved.".into()), ..Default::default() },
            )
            .await
        }
        Err(WebError::Service(Error::Validation(e))) => {
            rerender(&viewer, svc, &info, zone_id, Extras { settings_error: Some(e), ..Default::default() }).await
        }
        Err(e) => Err(e),
    }
}
