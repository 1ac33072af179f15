//! RFC 2136 dynamic updates, as domain operations: the nameserver turns a signed UPDATE
//! message into these; this checks the prerequisites and applies the changes in one
//! transaction, all or nothing, through the same validator, journal, audit and publishing as
//! every other write. SOA and apex NS are nsbox's and are left alone.

use super::records::insert;
use super::{Actor, Diff, Error, Result, Service};
use crate::domain::name;
use crate::domain::record::{self, Record, RecordData, RecordInput, RecordType, TtlPolicy};
use crate::domain::tsig::TsigKey;
use crate::store::{Read, Txn};

/// RFC 2136 §2.4. Names are absolute (no trailing dot).
#[derive(Debug, Clone)]
pub enum Prerequisite {
    NameInUse(String),
    NameNotInUse(String),
    RrsetExists(String, Option<RecordType>),
    RrsetDoesNotExist(String, Option<RecordType>),
    /// The RRset of this name and type is exactly these records (value-dependent).
    RrsetEquals(String, RecordType, Vec<RecordInput>),
}

/// RFC 2136 §2.5.
#[derive(Debug, Clone)]
pub enum UpdateOp {
    Add(RecordInput),
    DeleteName(String),
    DeleteRrset(String, RecordType),
    DeleteRecord(RecordInput),
}

/// Why an update was not applied, as the RCODE the client gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateFailure {
    /// A name was in use (YXDOMAIN) or not (NXDOMAIN), an RRset existed (YXRRSET) or not (NXRRSET).
    YxDomain,
    NxDomain,
    YxRrset,
    NxRrset,
    /// A name outside the zone (NOTZONE).
    NotZone,
    /// The key may not change this (REFUSED).
    Refused,
    /// Malformed update data (FORMERR).
    FormErr,
    ServFail,
}

impl Service {
    /// Applies one UPDATE message for `zone` (its domain), authorised by `key`.
    pub fn dynamic_update(
        &self,
        key: &TsigKey,
        zone: &str,
        prerequisites: &[Prerequisite],
        updates: &[UpdateOp],
    ) -> Result<(), UpdateFailure> {
        if !key.covers(zone) {
            return Err(UpdateFailure::Refused);
        }
        let (zone_id, actor) = self.zone_owner(zone).map_err(|_| UpdateFailure::NotZone)?;
        if !updates.iter().all(|op| permitted(key, op)) {
            return Err(UpdateFailure::Refused);
        }
        let actor = Actor { via: format!("tsig:{}", key.name), ..actor };
        let outcome = self.change_zone(&actor, &zone_id, "dns.update", |txn, z| {
            let mut diff = Diff::default();
            check_prerequisites(txn, &z.id, &z.domain, prerequisites, self.ttl_policy).map_err(update_error)?;
            for op in updates {
                apply(txn, z, op, &mut diff, self.ttl_policy).map_err(update_error)?;
            }
            Ok(((), diff))
        });
        match outcome {
            Ok(()) => Ok(()),
            Err(Error::Validation(v)) => Err(decode_failure(&v.message).unwrap_or(UpdateFailure::FormErr)),
            Err(_) => Err(UpdateFailure::ServFail),
        }
    }
}

/// Failures travel through `change_zone` (which aborts the transaction) as validation errors.
/// Whether the key's policy lets it make this change.
fn permitted(key: &TsigKey, op: &UpdateOp) -> bool {
    let typed = |input: &RecordInput| input.rtype.as_deref().and_then(|t| t.parse::<RecordType>().ok());
    let owner =
        |input: &RecordInput| input.name.as_deref().unwrap_or_default().trim_end_matches('.').to_ascii_lowercase();
    match op {
        UpdateOp::Add(input) | UpdateOp::DeleteRecord(input) => key.allows(&owner(input), typed(input)),
        UpdateOp::DeleteRrset(name, rtype) => key.allows(name, Some(*rtype)),
        // Deleting a whole name touches every type: only a key without a type limit may.
        UpdateOp::DeleteName(name) => key.types.is_empty() && key.allows(name, None),
    }
}

fn update_error(failure: UpdateFailure) -> Error {
    Error::Validation(crate::domain::ValidationError::general(format!("update:{failure:?}")))
}

fn decode_failure(message: &str) -> Option<UpdateFailure> {
    use UpdateFailure::*;
    [YxDomain, NxDomain, YxRrset, NxRrset, NotZone, Refused, FormErr, ServFail]
        .into_iter()
        .find(|f| message == format!("update:{f:?}"))
}

fn relative(name: &str, zone: &str) -> Result<String, UpdateFailure> {
    let inside = name == zone || name.strip_suffix(zone).is_some_and(|r| r.ends_with('.'));
    if !inside {
        return Err(UpdateFailure::NotZone);
    }
    name::parse_owner(&format!("{name}."), zone).map_err(|_| UpdateFailure::NotZone)
}

fn at_name(txn: &Txn, zone_id: &str, zone: &str, name: &str) -> Result<(String, Vec<Record>), UpdateFailure> {
    let rel = relative(name, zone)?;
    let records = txn.records_named(zone_id, &rel).map_err(|_| UpdateFailure::ServFail)?;
    Ok((rel, records))
}

fn check_prerequisites(
    txn: &Txn,
    zone_id: &str,
    zone: &str,
    prerequisites: &[Prerequisite],
    ttls: TtlPolicy,
) -> Result<(), UpdateFailure> {
    for p in prerequisites {
        match p {
            Prerequisite::NameInUse(n) => {
                let (rel, records) = at_name(txn, zone_id, zone, n)?;
                if records.is_empty() && rel != "@" {
                    return Err(UpdateFailure::NxDomain);
                }
            }
            Prerequisite::NameNotInUse(n) => {
                let (rel, records) = at_name(txn, zone_id, zone, n)?;
                if !records.is_empty() || rel == "@" {
                    return Err(UpdateFailure::YxDomain);
                }
            }
            Prerequisite::RrsetExists(n, t) => {
                let (_, records) = at_name(txn, zone_id, zone, n)?;
                if !t.is_some_and(|t| records.iter().any(|r| r.data.rtype == t)) {
                    return Err(UpdateFailure::NxRrset);
                }
            }
            Prerequisite::RrsetDoesNotExist(n, t) => {
                let (_, records) = at_name(txn, zone_id, zone, n)?;
                if t.is_some_and(|t| records.iter().any(|r| r.data.rtype == t)) {
                    return Err(UpdateFailure::YxRrset);
                }
            }
            Prerequisite::RrsetEquals(n, t, wanted) => {
                let (_, records) = at_name(txn, zone_id, zone, n)?;
                let have: Vec<&RecordData> = records.iter().map(|r| &r.data).filter(|d| d.rtype == *t).collect();
                let wanted: Vec<RecordData> =
                    wanted.iter().map(|w| validated(zone, w, ttls)).collect::<Result<_, _>>()?;
                let same = have.len() == wanted.len() && wanted.iter().all(|w| have.iter().any(|h| h.same_rdata(w)));
                if !same {
                    return Err(UpdateFailure::NxRrset);
                }
            }
        }
    }
    Ok(())
}

/// An update's record, validated. RFC 2136 never refuses a record for its TTL: it is brought
/// inside the policy.
fn validated(zone: &str, input: &RecordInput, ttls: TtlPolicy) -> Result<RecordData, UpdateFailure> {
    let mut input = input.clone();
    input.ttl = input.ttl.map(|t| ttls.clamp(t).0);
    record::validate_record(zone, &input, 3600, ttls).map_err(|_| UpdateFailure::FormErr)
}

/// The zone's own SOA and apex NS are nsbox's: updates leave them alone.
fn protected(rel: &str, rtype: RecordType) -> bool {
    rel == "@" && rtype == RecordType::NS
}

fn apply(
    txn: &mut Txn,
    zone: &crate::domain::zone::Zone,
    op: &UpdateOp,
    diff: &mut Diff,
    ttls: TtlPolicy,
) -> Result<(), UpdateFailure> {
    let delete = |txn: &mut Txn, diff: &mut Diff, victims: Vec<Record>| -> Result<(), UpdateFailure> {
        for r in victims {
            txn.delete_record(&r).map_err(|_| UpdateFailure::ServFail)?;
            diff.removed.push(r);
        }
        Ok(())
    };
    let owner =
        |input: &RecordInput| relative(input.name.as_deref().unwrap_or_default().trim_end_matches('.'), &zone.domain);
    match op {
        UpdateOp::Add(input) => {
            owner(input)?;
            let data = validated(&zone.domain, input, ttls)?;
            if protected(&data.name, data.rtype) {
                return Ok(());
            }
            match insert(txn, zone, data) {
                Ok(record) => diff.added.push(record),
                // RFC 2136 §3.4.2.2: an RR that would break the CNAME rule, or is already there, is skipped.
                Err(Error::Conflict(_)) => {}
                Err(_) => return Err(UpdateFailure::ServFail),
            }
        }
        UpdateOp::DeleteName(n) => {
            let (rel, records) = at_name(txn, &zone.id, &zone.domain, n)?;
            delete(txn, diff, records.into_iter().filter(|r| !protected(&rel, r.data.rtype)).collect())?;
        }
        UpdateOp::DeleteRrset(n, t) => {
            let (rel, records) = at_name(txn, &zone.id, &zone.domain, n)?;
            if !protected(&rel, *t) {
                delete(txn, diff, records.into_iter().filter(|r| r.data.rtype == *t).collect())?;
            }
        }
        UpdateOp::DeleteRecord(input) => {
            owner(input)?;
            let data = validated(&zone.domain, input, ttls)?;
            if protected(&data.name, data.rtype) {
                return Ok(());
            }
            let records = txn.records_named(&zone.id, &data.name).map_err(|_| UpdateFailure::ServFail)?;
            delete(txn, diff, records.into_iter().filter(|r| r.data.same_rdata(&data)).collect())?;
        }
    }
    Ok(())
}
