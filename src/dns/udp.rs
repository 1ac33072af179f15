//! The UDP receive loop. hickory's own loop hands every datagram through a channel to a new
//! task and every answer through another channel back to the socket; a lookup takes a few
//! microseconds, so those hops cost more than the answer. Here queries arrive in batches
//! (`mmsg`), are answered inline, and their answers leave in one batch. Only requests that may
//! wait (UPDATE, which writes the store) get a task of their own, and answer by themselves.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};

use hickory_proto::op::{Edns, Header, HeaderCounts, Metadata, OpCode, ResponseCode};
use hickory_proto::rr::Record;
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};
use hickory_server::net::NetError;
use hickory_server::net::runtime::TokioTime;
use hickory_server::net::xfer::Protocol;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponse;
use tokio::io::Interest;
use tokio::net::UdpSocket;

use super::Catalog;
use super::handler::Handler;
use super::mmsg::{self, Inbox};
use super::packet_cache::{Lookup, Miss};
use super::rrl::{self, Rrl, Verdict};

const HEADER_LEN: usize = 12;

/// Answers waiting for the end of their batch.
type Outbox = Arc<Mutex<Vec<(SocketAddr, Vec<u8>)>>>;

/// One receive loop; several may share a socket (one per DNS thread), each taking the batches
/// that are there when it looks.
pub async fn serve(socket: Arc<UdpSocket>, handler: Handler) {
    let mut inbox = Inbox::new();
    let outbox: Outbox = Arc::new(Mutex::new(Vec::with_capacity(mmsg::BATCH)));
    loop {
        if socket.readable().await.is_err() {
            continue;
        }
        match socket.try_io(Interest::READABLE, || inbox.receive(socket.as_raw_fd())) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            // ICMP errors of earlier sends and the like: the socket itself is fine.
            Err(error) => {
                tracing::debug!(%error, "UDP receive failed");
                continue;
            }
        }
        for (packet, truncated, peer) in inbox.datagrams() {
            let Some(peer) = peer else { continue };
            answer(packet, truncated, peer, &handler, &socket, &outbox).await;
        }
        let answers = std::mem::take(&mut *outbox.lock().unwrap_or_else(|p| p.into_inner()));
        flush(&socket, rate_limited(answers, &handler.catalog().rrl)).await;
    }
}

/// Answers one datagram into the outbox; `truncated`: it was too large to be a query.
async fn answer(
    packet: &[u8],
    truncated: bool,
    peer: SocketAddr,
    handler: &Handler,
    socket: &Arc<UdpSocket>,
    outbox: &Outbox,
) {
    if packet.len() < HEADER_LEN || peer.port() == 0 || packet[2] & 0x80 != 0 {
        return; // A runt, a response, or from nowhere: no answer, nothing to reflect.
    }
    let catalog = handler.catalog();
    let cached = if truncated { Lookup::NotKept } else { catalog.packets.lookup(packet) };
    let keep = match cached {
        Lookup::Hit { answer, qtype } => {
            catalog.metrics.dns_answered(u16::from(answer[3] & 0x0f), qtype, std::time::Duration::ZERO);
            catalog.metrics.packet_cache_hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return outbox.lock().unwrap_or_else(|p| p.into_inner()).push((peer, answer));
        }
        Lookup::Miss(miss) => Some(Keep { miss, catalog: handler.shared_catalog() }),
        Lookup::NotKept => None,
    };
    let batched = Reply { peer, target: Target::Batch(outbox.clone()), keep };
    let parsed = if truncated { None } else { Request::from_bytes(packet.to_vec(), peer, Protocol::Udp).ok() };
    let Some(request) = parsed else {
        return batched.send(format_error(packet).to_vec()).await;
    };
    if request.metadata.op_code == OpCode::Update {
        let reply = Reply { peer, target: Target::Direct(socket.clone()), keep: None };
        let handler = handler.clone();
        tokio::spawn(async move { handler.handle_request::<_, TokioTime>(&request, reply).await });
    } else {
        handler.handle_request::<_, TokioTime>(&request, batched).await;
    }
}

/// The batch as response rate limiting lets it out: some answers dropped, some truncated.
fn rate_limited(answers: Vec<(SocketAddr, Vec<u8>)>, rrl: &Rrl) -> Vec<(SocketAddr, Vec<u8>)> {
    let verdicts = rrl.check_batch(answers.iter().map(|(peer, bytes)| (peer.ip(), bytes.as_slice())));
    answers
        .into_iter()
        .zip(verdicts)
        .filter_map(|((peer, bytes), verdict)| match verdict {
            Verdict::Send => Some((peer, bytes)),
            Verdict::Drop => None,
            Verdict::Slip => rrl::truncated(&bytes).map(|cut| (peer, cut)),
        })
        .collect()
}

/// Sends a batch of answers: as many as the socket takes at once, the rest one by one as it
/// has room.
async fn flush(socket: &UdpSocket, answers: Vec<(SocketAddr, Vec<u8>)>) {
    let mut sent = 0;
    while sent < answers.len() {
        match socket.try_io(Interest::WRITABLE, || mmsg::send(socket.as_raw_fd(), &answers[sent..])) {
            Ok(0) => break,
            Ok(n) => sent += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                let (peer, bytes) = &answers[sent];
                let _ = socket.send_to(bytes, peer).await;
                sent += 1;
            }
            // One unreachable peer fails only its own answer.
            Err(error) => {
                tracing::debug!(%error, peer = %answers[sent].0, "UDP send failed");
                sent += 1;
            }
        }
    }
}

/// FORMERR for a datagram with a header but no parseable message: the header's id and
/// opcode, no sections (as hickory's own loop answers).
fn format_error(packet: &[u8]) -> [u8; HEADER_LEN] {
    let mut answer = [0u8; HEADER_LEN];
    answer[..2].copy_from_slice(&packet[..2]);
    answer[2] = 0x80 | (packet[2] & 0x78); // QR, the opcode
    answer[3] = 1; // FORMERR
    answer
}

/// Where an answer goes: into the batch, or (for a request answered outside the loop)
/// straight out of the socket.
#[derive(Clone)]
enum Target {
    Batch(Outbox),
    Direct(Arc<UdpSocket>),
}

#[derive(Clone)]
struct Reply {
    peer: SocketAddr,
    target: Target,
    keep: Option<Keep>,
}

/// A question the packet cache missed, and the cache to keep its answer in.
#[derive(Clone)]
struct Keep {
    miss: Miss,
    catalog: Arc<Catalog>,
}

impl Reply {
    async fn send(&self, bytes: Vec<u8>) {
        if let Some(keep) = &self.keep {
            keep.catalog.packets.keep(&keep.miss, &bytes);
        }
        match &self.target {
            Target::Batch(outbox) => outbox.lock().unwrap_or_else(|p| p.into_inner()).push((self.peer, bytes)),
            Target::Direct(socket) => {
                if let Err(error) = socket.send_to(&bytes, self.peer).await {
                    tracing::debug!(%error, peer = %self.peer, "UDP send failed");
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl ResponseHandler for Reply {
    async fn send_response<'a>(
        &mut self,
        response: MessageResponse<
            '_,
            'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
        >,
    ) -> Result<ResponseInfo, NetError> {
        // Within the client's UDP limit (512 without EDNS); an answer that cannot be encoded
        // becomes SERVFAIL rather than silence.
        let metadata = *response.metadata();
        let limit = response.edns().map_or(512, Edns::max_payload);
        let (info, bytes) = match super::handler::emit(response, limit) {
            Ok(encoded) => encoded,
            Err(_) => servfail(&metadata)?,
        };
        self.send(bytes).await;
        Ok(info)
    }
}

/// A bare SERVFAIL answering the request `metadata` came from.
fn servfail(metadata: &Metadata) -> Result<(ResponseInfo, Vec<u8>), NetError> {
    let mut failure = Metadata::response_from_request(metadata);
    failure.response_code = ResponseCode::ServFail;
    let header = Header { metadata: failure, counts: HeaderCounts::default() };
    let mut bytes = Vec::with_capacity(HEADER_LEN);
    header.emit(&mut BinEncoder::new(&mut bytes)).map_err(|e| NetError::from(e.to_string()))?;
    Ok((ResponseInfo::from(header), bytes))
}
