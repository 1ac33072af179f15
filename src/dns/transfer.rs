//! Zone transfers out: AXFR in as many messages as the zone needs, IXFR from the journal
//! (RFC 1995), falling back to AXFR when the journal cannot bridge the serials.

use std::sync::Arc;

use hickory_proto::op::{Edns, Metadata, ResponseCode};
use hickory_proto::rr::{RData, Record, RecordType};
use hickory_server::net::NetError;
use hickory_server::net::xfer::Protocol;
use hickory_server::server::{Request, ResponseHandler, ResponseInfo};

use super::convert::to_wire;
use super::handler::{send_sections, send_tsig_error, wire_size_bound};
use super::snapshot::ZoneSnapshot;
use super::{Catalog, serial_newer, tsig};
use crate::domain::record::RecordType as Type;
use crate::service::Service;
use crate::store::{JournalEntry, Read};

/// Bytes of records per transfer message (a message may be up to 64 KiB).
const MESSAGE_BUDGET: usize = 16 * 1024;

pub struct Context<'a> {
    pub request: &'a Request,
    pub catalog: &'a Catalog,
    pub service: &'a Service,
    pub zone: &'a Arc<ZoneSnapshot>,
    pub edns: Option<&'a Edns>,
}

pub async fn respond<R: ResponseHandler>(
    ctx: Context<'_>,
    mut response: R,
    code: &mut ResponseCode,
) -> Result<ResponseInfo, NetError> {
    *code = ResponseCode::Refused;
    let request = ctx.request;
    let is_ixfr = request.queries.queries().first().is_some_and(|q| q.query_type() == RecordType::IXFR);
    // A valid TSIG key covering the zone admits the client; without TSIG, its address must.
    let mut signing = match tsig::check(request, ctx.catalog) {
        tsig::Verdict::Valid { key, signing } if key.key.covers(&ctx.zone.domain) => Some(signing),
        tsig::Verdict::Valid { mut signing, .. } => {
            return send(&ctx, &mut response, ResponseCode::Refused, &[], Some(&mut signing)).await;
        }
        tsig::Verdict::Invalid(context) => {
            *code = ResponseCode::NotAuth;
            tracing::info!(zone = %ctx.zone.domain, client = %request.src(), "zone transfer with a bad TSIG signature");
            return send_tsig_error(request, &mut response, context).await;
        }
        tsig::Verdict::Unsigned if allowed_address(&ctx) => None,
        tsig::Verdict::Unsigned => {
            tracing::info!(zone = %ctx.zone.domain, client = %request.src(), "zone transfer refused");
            return send(&ctx, &mut response, ResponseCode::Refused, &[], None).await;
        }
    };
    let client_serial = is_ixfr.then(|| client_serial(request)).flatten();
    *code = ResponseCode::NoError;
    if request.protocol() == Protocol::Udp {
        // Over UDP an IXFR gets the current SOA (RFC 1995 §2: "use TCP"); AXFR needs TCP.
        let soa = std::slice::from_ref(&ctx.zone.soa);
        return match client_serial {
            Some(_) => send(&ctx, &mut response, ResponseCode::NoError, soa, signing.as_mut()).await,
            None => {
                *code = ResponseCode::FormErr;
                send(&ctx, &mut response, ResponseCode::FormErr, &[], signing.as_mut()).await
            }
        };
    }
    let records = match client_serial {
        Some(serial) if !serial_newer(ctx.zone.serial, serial) => vec![ctx.zone.soa.clone()],
        Some(serial) => incremental(&ctx, serial).unwrap_or_else(|| full(ctx.zone)),
        None => full(ctx.zone),
    };
    tracing::info!(zone = %ctx.zone.domain, client = %request.src(), kind = if is_ixfr { "IXFR" } else { "AXFR" }, records = records.len(), signed = signing.is_some(), "zone transfer");
    ctx.catalog.metrics.transfers[usize::from(is_ixfr)].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut info = None;
    for chunk in chunks(&records) {
        info = Some(send(&ctx, &mut response, ResponseCode::NoError, chunk, signing.as_mut()).await?);
    }
    info.ok_or_else(|| NetError::from("empty transfer"))
}

fn allowed_address(ctx: &Context<'_>) -> bool {
    let ip = ctx.request.src().ip();
    ctx.catalog.settings().allow_transfer.iter().chain(&ctx.zone.allow_transfer).any(|net| net.contains(&ip))
}

/// The serial in the SOA of an IXFR request's authority section.
fn client_serial(request: &Request) -> Option<u32> {
    request.authorities.iter().find_map(|r| match &r.data {
        RData::SOA(soa) => Some(soa.serial),
        _ => None,
    })
}

/// AXFR: SOA, every record, SOA.
fn full(zone: &ZoneSnapshot) -> Vec<Record> {
    let mut records = zone.all_records();
    records.push(zone.soa.clone());
    records
}

/// IXFR from the journal: the changes from `from` to the zone's serial, or None when the
/// journal does not hold an unbroken chain (or a change touched the generated apex NS).
fn incremental(ctx: &Context<'_>, from: u32) -> Option<Vec<Record>> {
    let zone = ctx.zone;
    // The journal holds record changes, not the signatures and NSEC records they moved.
    if zone.signed_until().is_some() {
        return None;
    }
    let entries: Vec<JournalEntry> = ctx.service.store().read(|r| r.journal_since(&zone.id, from)).ok()?;
    let mut expected = from;
    let mut chain = Vec::new();
    for entry in entries {
        if entry.from_serial != expected {
            return None;
        }
        expected = entry.to_serial;
        chain.push(entry);
        if expected == zone.serial {
            break;
        }
    }
    if expected != zone.serial || chain.is_empty() {
        return None;
    }
    let touches_apex_ns =
        |e: &JournalEntry| e.added.iter().chain(&e.removed).any(|r| r.data.rtype == Type::NS && r.data.name == "@");
    if chain.iter().any(touches_apex_ns) {
        return None;
    }
    let soa_at = |serial: u32| {
        let mut soa = zone.soa.clone();
        if let RData::SOA(data) = &mut soa.data {
            data.serial = serial;
        }
        soa
    };
    let wire = |records: &[crate::domain::record::Record]| {
        records.iter().filter_map(|r| to_wire(&zone.domain, &r.data)).collect::<Vec<_>>()
    };
    let mut out = vec![zone.soa.clone()];
    for entry in &chain {
        out.push(soa_at(entry.from_serial));
        out.extend(wire(&entry.removed));
        out.push(soa_at(entry.to_serial));
        out.extend(wire(&entry.added));
    }
    out.push(zone.soa.clone());
    Some(out)
}

fn chunks(records: &[Record]) -> Vec<&[Record]> {
    let mut out = Vec::new();
    let (mut start, mut size) = (0, 0);
    for (i, record) in records.iter().enumerate() {
        let len = wire_size_bound(record);
        if size + len > MESSAGE_BUDGET && i > start {
            out.push(&records[start..i]);
            (start, size) = (i, 0);
        }
        size += len;
    }
    out.push(&records[start..]);
    out
}

/// Sends one message of the answer, TSIG-signed when the request was.
async fn send<R: ResponseHandler>(
    ctx: &Context<'_>,
    response: &mut R,
    code: ResponseCode,
    records: &[Record],
    signing: Option<&mut tsig::Signing>,
) -> Result<ResponseInfo, NetError> {
    let mut metadata = Metadata::response_from_request(&ctx.request.metadata);
    metadata.authoritative = code == ResponseCode::NoError;
    metadata.response_code = code;
    send_sections(ctx.request, response, metadata, ctx.edns, [records, &[], &[]], signing).await
}
