//! RFC 2136 UPDATE on the wire: TSIG is required, the message's sections become the service's
//! prerequisites and operations (RFC 2136 §3.2, §3.4), and the answer says how it went.

use hickory_proto::op::{Edns, Metadata, ResponseCode};
use hickory_proto::rr::{DNSClass, RData, Record, RecordType as WireType};
use hickory_server::net::NetError;
use hickory_server::server::{Request, ResponseHandler, ResponseInfo};

use super::handler::{send_sections, send_tsig_error};
use super::{Catalog, tsig};
use crate::domain::rdata;
use crate::domain::record::{RecordInput, RecordType};
use crate::service::{Prerequisite, Service, UpdateFailure, UpdateOp};

pub async fn respond<R: ResponseHandler>(
    request: &Request,
    catalog: &Catalog,
    service: &Service,
    edns: Option<&Edns>,
    mut response: R,
    answered: &mut ResponseCode,
) -> Result<ResponseInfo, NetError> {
    let mut signing = None;
    let key = match tsig::check(request, catalog) {
        tsig::Verdict::Valid { key, signing: s } => {
            if !catalog.replays.first_use(s.request_mac()) {
                *answered = ResponseCode::NotAuth;
                return send_tsig_error(request, &mut response, None).await;
            }
            signing = Some(s);
            Some(key)
        }
        tsig::Verdict::Invalid(context) => {
            *answered = ResponseCode::NotAuth;
            return send_tsig_error(request, &mut response, context).await;
        }
        tsig::Verdict::Unsigned => None,
    };
    let code = match key {
        // Unsigned updates change nothing (RFC 2136 §3.3: REFUSED by policy).
        None => ResponseCode::Refused,
        Some(key) => match parse(request) {
            Ok((zone, prerequisites, updates)) => {
                match service.dynamic_update(&key.key, &zone, &prerequisites, &updates) {
                    Ok(()) => ResponseCode::NoError,
                    Err(failure) => rcode(failure),
                }
            }
            Err(failure) => rcode(failure),
        },
    };
    if code != ResponseCode::NoError {
        tracing::info!(client = %request.src(), ?code, "dynamic update not applied");
    }
    *answered = code;
    let mut metadata = Metadata::response_from_request(&request.metadata);
    metadata.response_code = code;
    send_sections(request, &mut response, metadata, edns, [&[], &[], &[]], signing.as_mut()).await
}

fn rcode(failure: UpdateFailure) -> ResponseCode {
    match failure {
        UpdateFailure::YxDomain => ResponseCode::YXDomain,
        UpdateFailure::NxDomain => ResponseCode::NXDomain,
        UpdateFailure::YxRrset => ResponseCode::YXRRSet,
        UpdateFailure::NxRrset => ResponseCode::NXRRSet,
        UpdateFailure::NotZone => ResponseCode::NotZone,
        UpdateFailure::Refused => ResponseCode::Refused,
        UpdateFailure::FormErr => ResponseCode::FormErr,
        UpdateFailure::ServFail => ResponseCode::ServFail,
    }
}

fn owner(record: &Record) -> String {
    record.name.to_ascii().trim_end_matches('.').to_ascii_lowercase()
}

/// Our type of a wire type; None for types nsbox does not hold (and ANY).
fn our_type(t: WireType) -> Option<RecordType> {
    RecordType(u16::from(t)).to_string().parse().ok()
}

/// A wire record as the validator's input, its data printed by the type's one definition.
/// Only added records keep their TTL: deletions and prerequisites carry TTL 0 (RFC 2136 §2.4,
/// §2.5), which matches any.
fn input(record: &Record, keep_ttl: bool) -> Result<RecordInput, UpdateFailure> {
    let rtype = our_type(record.record_type()).ok_or(UpdateFailure::Refused)?;
    let bytes = super::convert::rdata_bytes(&record.data).ok_or(UpdateFailure::FormErr)?;
    let content = rdata::print(rtype, &bytes, true).map_err(|_| UpdateFailure::FormErr)?;
    Ok(RecordInput {
        rtype: Some(rtype.to_string()),
        name: Some(format!("{}.", owner(record))),
        content: Some(content),
        ttl: keep_ttl.then_some(i64::from(record.ttl)),
        priority: None,
    })
}

fn is_empty(record: &Record) -> bool {
    matches!(record.data, RData::Update0(_)) || matches!(&record.data, RData::NULL(n) if n.anything.is_empty())
}

#[allow(clippy::type_complexity)]
fn parse(request: &Request) -> Result<(String, Vec<Prerequisite>, Vec<UpdateOp>), UpdateFailure> {
    let [zone] = request.queries.queries() else { return Err(UpdateFailure::FormErr) };
    if zone.query_type() != WireType::SOA {
        return Err(UpdateFailure::FormErr);
    }
    let zone = zone.name().to_string().trim_end_matches('.').to_ascii_lowercase();
    let mut prerequisites = Vec::new();
    let mut equals: Vec<(String, RecordType, Vec<RecordInput>)> = Vec::new();
    for r in &request.answers {
        let (name, t) = (owner(r), r.record_type());
        match r.dns_class {
            DNSClass::ANY if t == WireType::ANY => prerequisites.push(Prerequisite::NameInUse(name)),
            DNSClass::ANY => prerequisites.push(Prerequisite::RrsetExists(name, our_type(t))),
            DNSClass::NONE if t == WireType::ANY => prerequisites.push(Prerequisite::NameNotInUse(name)),
            DNSClass::NONE => prerequisites.push(Prerequisite::RrsetDoesNotExist(name, our_type(t))),
            DNSClass::IN => {
                let data = input(r, false).map_err(|_| UpdateFailure::NxRrset)?;
                let rtype = our_type(t).ok_or(UpdateFailure::NxRrset)?;
                match equals.iter_mut().find(|(n, ty, _)| *n == name && *ty == rtype) {
                    Some((_, _, set)) => set.push(data),
                    None => equals.push((name, rtype, vec![data])),
                }
            }
            _ => return Err(UpdateFailure::FormErr),
        }
    }
    prerequisites.extend(equals.into_iter().map(|(n, t, set)| Prerequisite::RrsetEquals(n, t, set)));
    let mut updates = Vec::new();
    for r in &request.authorities {
        let (name, t) = (owner(r), r.record_type());
        let op = match r.dns_class {
            DNSClass::IN => UpdateOp::Add(input(r, true)?),
            DNSClass::ANY if t == WireType::ANY && is_empty(r) => UpdateOp::DeleteName(name),
            DNSClass::ANY if is_empty(r) => match our_type(t) {
                Some(t) => UpdateOp::DeleteRrset(name, t),
                // SOA and types nsbox does not hold: nothing to delete.
                None => continue,
            },
            DNSClass::NONE => match input(r, false) {
                Ok(i) => UpdateOp::DeleteRecord(i),
                Err(_) => continue,
            },
            _ => return Err(UpdateFailure::FormErr),
        };
        updates.push(op);
    }
    Ok((zone, prerequisites, updates))
}
