//! Answers one request: flags, EDNS, errors, and the size rules of UDP; the data comes from the
//! zone snapshot, transfers from `transfer`.

use std::sync::Arc;

use hickory_proto::op::{Edns, Header, HeaderCounts, Metadata, OpCode, ResponseCode};
use hickory_proto::rr::{DNSClass, RData, Record, RecordType};
use hickory_proto::serialize::binary::BinEncoder;
use hickory_server::net::NetError;
use hickory_server::net::runtime::Time;
use hickory_server::net::xfer::Protocol;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;

use super::snapshot::Lookup;
use super::transfer;
use super::{Catalog, tsig};
use crate::service::Service;

/// The UDP payload we offer and accept at most (DNS Flag Day 2020).
const MAX_UDP_PAYLOAD: u16 = 1232;
const MIN_UDP_PAYLOAD: u16 = 512;

#[derive(Clone)]
pub struct Handler {
    catalog: Arc<Catalog>,
    service: Arc<Service>,
}

impl Handler {
    pub fn new(catalog: Arc<Catalog>, service: Arc<Service>) -> Self {
        Self { catalog, service }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn shared_catalog(&self) -> Arc<Catalog> {
        self.catalog.clone()
    }
}

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler, T: Time>(&self, request: &Request, response: R) -> ResponseInfo {
        let start = std::time::Instant::now();
        let mut code = ResponseCode::ServFail;
        let answered = self.respond(request, response, &mut code).await;
        let qtype = request.queries.queries().first().map_or(0, |q| u16::from(q.query_type()));
        self.catalog.metrics.dns_answered(u16::from(code), qtype, start.elapsed());
        match answered {
            Ok(info) => info,
            Err(error) => {
                tracing::debug!(%error, "could not send a DNS response");
                let mut metadata = Metadata::response_from_request(&request.metadata);
                metadata.response_code = ResponseCode::ServFail;
                ResponseInfo::from(Header { metadata, counts: HeaderCounts::default() })
            }
        }
    }
}

impl Handler {
    /// Answers one request; `code` says with which RCODE (for the metrics).
    async fn respond<R: ResponseHandler>(
        &self,
        request: &Request,
        mut response: R,
        code: &mut ResponseCode,
    ) -> Result<ResponseInfo, NetError> {
        let edns = response_edns(request);
        let mut fail = |c: ResponseCode| {
            *code = c;
            c
        };
        if request.metadata.op_code == OpCode::Update {
            return super::update::respond(request, &self.catalog, &self.service, edns.as_ref(), response, code).await;
        }
        if request.metadata.op_code != OpCode::Query {
            return error(request, &mut response, fail(ResponseCode::NotImp), edns.as_ref()).await;
        }
        if request.edns.as_ref().is_some_and(|e| e.version() > 0) {
            return error(request, &mut response, fail(ResponseCode::BADVERS), edns.as_ref()).await;
        }
        let [query] = request.queries.queries() else {
            return error(request, &mut response, fail(ResponseCode::FormErr), edns.as_ref()).await;
        };
        if query.query_class() != DNSClass::IN {
            return error(request, &mut response, fail(ResponseCode::Refused), edns.as_ref()).await;
        }
        let qname = query.name().to_string();
        let qname = qname.trim_end_matches('.');
        let zones = self.catalog.current();
        let Some(zone) = zones.find(qname) else {
            return error(request, &mut response, fail(ResponseCode::Refused), edns.as_ref()).await;
        };
        let qtype = query.query_type();
        if matches!(qtype, RecordType::AXFR | RecordType::IXFR) {
            if zone.domain != qname {
                return error(request, &mut response, fail(ResponseCode::NotAuth), edns.as_ref()).await;
            }
            let ctx = transfer::Context {
                request,
                catalog: &self.catalog,
                service: &self.service,
                zone,
                edns: edns.as_ref(),
            };
            return transfer::respond(ctx, response, code).await;
        }
        let dnssec_ok = request.edns.as_ref().is_some_and(|e| e.flags().dnssec_ok);
        let lookup = zone.lookup(qname, query.original().name(), qtype, dnssec_ok);
        *code = lookup.rcode;
        match tsig::check(request, &self.catalog) {
            tsig::Verdict::Unsigned => send_lookup(request, &mut response, lookup, edns.as_ref(), None).await,
            tsig::Verdict::Valid { mut signing, .. } => {
                send_lookup(request, &mut response, lookup, edns.as_ref(), Some(&mut signing)).await
            }
            tsig::Verdict::Invalid(context) => send_tsig_error(request, &mut response, context).await,
        }
    }
}

/// A response to `request`, carrying our OPT record when the question had one.
pub(super) fn builder<'q>(request: &'q Request, edns: Option<&'q Edns>) -> MessageResponseBuilder<'q> {
    let mut builder = MessageResponseBuilder::from_message_request(request);
    if let Some(edns) = edns {
        builder.edns(edns);
    }
    builder
}

/// The OPT record of the answer: present when the question had one. Its payload size is what
/// the client can take (within our bounds), since the answer is cut to fit it.
fn response_edns(request: &Request) -> Option<Edns> {
    let asked = request.edns.as_ref()?;
    let mut edns = Edns::new();
    edns.set_max_payload(asked.max_payload().clamp(MIN_UDP_PAYLOAD, MAX_UDP_PAYLOAD));
    edns.set_version(0);
    // RFC 3225 §3: the DO bit is copied into the answer.
    edns.set_dnssec_ok(asked.flags().dnssec_ok);
    Some(edns)
}

async fn error<R: ResponseHandler>(
    request: &Request,
    response: &mut R,
    code: ResponseCode,
    edns: Option<&Edns>,
) -> Result<ResponseInfo, NetError> {
    let builder = builder(request, edns);
    response.send_response(builder.error_msg(&request.metadata, code)).await
}

async fn send_lookup<R: ResponseHandler>(
    request: &Request,
    response: &mut R,
    mut lookup: Lookup,
    edns: Option<&Edns>,
    signing: Option<&mut tsig::Signing>,
) -> Result<ResponseInfo, NetError> {
    let mut metadata = Metadata::response_from_request(&request.metadata);
    metadata.authoritative = lookup.authoritative;
    metadata.response_code = lookup.rcode;
    if request.protocol() == Protocol::Udp {
        fit_udp(request, &mut lookup, &mut metadata, edns);
    }
    let sections = [&lookup.answers[..], &lookup.authority, &lookup.additional];
    send_sections(request, response, metadata, edns, sections, signing).await
}

/// Sends answer, authority and additional records, TSIG-signed when the request was.
pub(super) async fn send_sections<R: ResponseHandler>(
    request: &Request,
    response: &mut R,
    metadata: Metadata,
    edns: Option<&Edns>,
    [answers, authority, additional]: [&[Record]; 3],
    signing: Option<&mut tsig::Signing>,
) -> Result<ResponseInfo, NetError> {
    let build = || {
        let builder = builder(request, edns);
        builder.build(metadata, answers.iter(), authority.iter(), std::iter::empty(), additional.iter())
    };
    let mut message = build();
    if let Some(signing) = signing {
        let signature =
            signing.sign(&emit(build(), u16::MAX)?.1).ok_or_else(|| NetError::from("TSIG signing failed"))?;
        message.set_signature(signature);
    }
    response.send_response(message).await
}

/// NOTAUTH for a bad signature, with the TSIG error the client can read (RFC 8945 §5.3.2).
pub(super) async fn send_tsig_error<R: ResponseHandler>(
    request: &Request,
    response: &mut R,
    context: Option<hickory_proto::rr::TSigResponseContext>,
) -> Result<ResponseInfo, NetError> {
    let mut metadata = Metadata::response_from_request(&request.metadata);
    metadata.response_code = ResponseCode::NotAuth;
    let build = || MessageResponseBuilder::from_message_request(request).build_no_records(metadata);
    let mut message = build();
    if let Some(signature) = tsig::error_signature(context, &emit(build(), u16::MAX)?.1) {
        message.set_signature(signature);
    }
    response.send_response(message).await
}

/// Encodes a message in at most `limit` bytes; an error when it does not fit. Without a
/// TSIG record and with no limit (`u16::MAX`), these are the bytes a MAC covers.
pub(super) fn emit<'a>(
    message: hickory_server::zone_handler::MessageResponse<
        '_,
        'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
    >,
    limit: u16,
) -> Result<(ResponseInfo, Vec<u8>), hickory_proto::ProtoError> {
    let mut bytes = Vec::with_capacity(usize::from(limit).min(1024));
    let mut encoder = BinEncoder::new(&mut bytes);
    encoder.set_max_size(limit);
    let info = message.destructive_emit(&mut encoder)?;
    Ok((info, bytes))
}

/// Makes a UDP answer fit the client's limit: the additional section goes first; if the
/// answer and authority still do not fit, the client gets TC and an empty answer, and asks
/// again over TCP (as Knot and BIND answer).
fn fit_udp(request: &Request, lookup: &mut Lookup, metadata: &mut Metadata, edns: Option<&Edns>) {
    let limit = usize::from(edns.map_or(MIN_UDP_PAYLOAD, Edns::max_payload));
    let fixed = 12 + request.queries.as_bytes().len() + if edns.is_some() { 11 } else { 0 };
    let size = |records: &[Record]| records.iter().map(wire_size_bound).sum::<usize>();
    let essential = fixed + size(&lookup.answers) + size(&lookup.authority);
    if essential + size(&lookup.additional) <= limit {
        return;
    }
    lookup.additional.clear();
    if essential <= limit || exact_fit(request, lookup, *metadata, edns, limit) {
        return;
    }
    metadata.truncation = true;
    lookup.answers.clear();
    lookup.authority.clear();
}

/// Encodes the answer to see whether name compression makes it fit.
fn exact_fit(request: &Request, lookup: &Lookup, metadata: Metadata, edns: Option<&Edns>, limit: usize) -> bool {
    let builder = builder(request, edns);
    let message =
        builder.build(metadata, lookup.answers.iter(), lookup.authority.iter(), std::iter::empty(), std::iter::empty());
    emit(message, u16::try_from(limit).unwrap_or(u16::MAX)).is_ok_and(|(info, _)| {
        let counts = info.counts();
        usize::from(counts.answers) == lookup.answers.len() && usize::from(counts.authorities) == lookup.authority.len()
    })
}

/// An upper bound of a record's size on the wire (names counted uncompressed).
pub fn wire_size_bound(record: &Record) -> usize {
    let name = |n: &hickory_proto::rr::Name| n.len() + 2;
    let rdata = match &record.data {
        RData::A(_) => 4,
        RData::AAAA(_) => 16,
        RData::NS(n) => name(&n.0),
        RData::CNAME(n) => name(&n.0),
        RData::PTR(n) => name(&n.0),
        RData::MX(mx) => 2 + name(&mx.exchange),
        RData::SRV(srv) => 6 + name(&srv.target),
        RData::SOA(soa) => name(&soa.mname) + name(&soa.rname) + 20,
        RData::TXT(txt) => txt.txt_data.iter().map(|s| s.len() + 1).sum(),
        RData::Unknown { rdata, .. } => rdata.anything.len(),
        _ => 512,
    };
    name(&record.name) + 10 + rdata
}
