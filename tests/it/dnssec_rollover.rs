//! Key rollovers keep a signed zone valid at every step: delv, with the DS a resolver would
//! hold at that moment as its trust anchor, says "fully validated" throughout, and the zone's
//! transfers pass dnssec-verify and ldns-verify-zone.

use serde_json::json;

use crate::dig::dig;
use crate::dnssec::{anchor_file, ds_records, signed_zone, validates, verify_transfer};
use crate::support::Server;
use crate::transfer::wait_for;

/// The key tags the zone's A record at www is signed with.
fn signing_tags(s: &Server) -> Vec<String> {
    let answer = dig(s.dns, &["+dnssec", "www.signed.test", "A"]);
    answer.answer.iter().filter(|r| r.2 == "RRSIG").filter_map(|r| r.3.split(' ').nth(6).map(String::from)).collect()
}

fn dnskeys(s: &Server) -> usize {
    dig(s.dns, &["signed.test", "DNSKEY"]).answer.len()
}

#[test]
fn a_zsk_rolls_by_pre_publication_on_a_short_schedule() {
    let config = nsbox::config::ServeConfig { dnssec_zsk_lifetime: 8, dnssec_rollover_wait: 2, ..Default::default() };
    let s = Server::start_with(config);
    let token = s.admin_token.clone();
    let dir = tempfile::tempdir().expect("temp dir");
    let zone = signed_zone(&s, &token, json!({"split": true, "denial": "nsec3"}));
    let anchor = anchor_file(dir.path(), "ksk.conf", &ds_records(&s, &token, &zone));
    assert_eq!(dnskeys(&s), 2, "a KSK and a ZSK");
    let state = s.get(&format!("/api/v1/dns-zones/{zone}/dnssec"), &token);
    assert!(
        state.body["next_rollover"]["step"].as_str().is_some_and(|s| s.starts_with("ZSK rollover")),
        "{}",
        state.text
    );
    let first = signing_tags(&s);
    validates(s.dns, &anchor);

    wait_for("a new ZSK published", || dnskeys(&s) == 3);
    assert_eq!(signing_tags(&s), first, "published, not signing yet");
    validates(s.dns, &anchor);
    wait_for("the new ZSK signing", || signing_tags(&s) != first);
    assert_eq!(dnskeys(&s), 3, "the old ZSK stays published while caches hold its signatures");
    validates(s.dns, &anchor);
    wait_for("the old ZSK gone", || dnskeys(&s) == 2);
    validates(s.dns, &anchor);
    verify_transfer(&s, dir.path(), "nsec3");
    let state = s.get(&format!("/api/v1/dns-zones/{zone}/dnssec"), &token);
    assert!(state.body["keys"].as_array().is_some_and(|k| k.len() == 2), "{}", state.text);
    // Every step is in the zone's history.
    let admin = s.service().find_user("admin").expect("admin");
    let actor = nsbox::service::Actor::user(&admin, "test");
    let history = s.service().history(&actor, Some(&zone), 100).expect("history");
    let steps: Vec<String> =
        history.iter().filter_map(|e| e.after.as_ref()?["step"].as_str().map(String::from)).collect();
    for step in ["published", "signs", "removed"] {
        assert!(steps.iter().any(|s| s.contains(step)), "{step} in {steps:?}");
    }
}

#[test]
fn an_algorithm_rollover_stays_valid_for_old_and_new_trust_anchors() {
    let config = nsbox::config::ServeConfig { dnssec_rollover_wait: 2, ..Default::default() };
    let s = Server::start_with(config);
    let token = s.admin_token.clone();
    let dir = tempfile::tempdir().expect("temp dir");
    let zone = signed_zone(&s, &token, json!({"algorithm": "ecdsap256sha256"}));
    let old_ds = ds_records(&s, &token, &zone);
    let old_anchor = anchor_file(dir.path(), "old.conf", &old_ds);

    let started = s.post(&format!("/api/v1/dns-zones/{zone}/dnssec/rollover"), &token, json!({"algorithm": "ed25519"}));
    assert_eq!((started.status, &started.body["awaiting_ds"]), (200, &json!(true)), "{}", started.text);
    s.post(&format!("/api/v1/dns-zones/{zone}/dnssec/rollover"), &token, json!({})).error(400, "validation_error");
    let both = ds_records(&s, &token, &zone);
    assert_eq!(both.len(), 2, "the parent is offered both: {both:?}");
    let new_ds: Vec<String> = both.into_iter().filter(|d| !old_ds.contains(d)).collect();
    assert!(new_ds[0].split(' ').nth(1) == Some("15"), "{new_ds:?}");
    let new_anchor = anchor_file(dir.path(), "new.conf", &new_ds);
    // A resolver still holding the old DS, and one with the new, both validate.
    validates(s.dns, &old_anchor);
    validates(s.dns, &new_anchor);
    verify_transfer(&s, dir.path(), "nsec");

    let confirmed = s.post(&format!("/api/v1/dns-zones/{zone}/dnssec/confirm-ds"), &token, json!({}));
    assert_eq!(confirmed.body["awaiting_ds"], false, "{}", confirmed.text);
    assert_eq!(ds_records(&s, &token, &zone), new_ds);
    validates(s.dns, &new_anchor);
    wait_for("the old key gone", || dnskeys(&s) == 1);
    validates(s.dns, &new_anchor);
    verify_transfer(&s, dir.path(), "nsec");
    let state = s.get(&format!("/api/v1/dns-zones/{zone}/dnssec"), &token);
    assert_eq!(state.body["algorithm"], "ed25519", "{}", state.text);
}
