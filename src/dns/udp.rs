//! The UDP receive loop. hickory's own loop hands every datagram through a channel to a new
//! task and every answer through another channel back to the socket; a lookup takes a few
//! microseconds, so those hops cost more than the answer. Here a query is answered inline in
//! the loop and sent straight from it. Only requests that may wait (UPDATE, which writes the
//! store) get a task of their own.

use std::net::SocketAddr;
use std::sync::Arc;

use hickory_proto::op::{Edns, Header, HeaderCounts, Metadata, OpCode, ResponseCode};
use hickory_proto::rr::Record;
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};
use hickory_server::net::NetError;
use hickory_server::net::runtime::TokioTime;
use hickory_server::net::xfer::Protocol;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponse;
use tokio::net::UdpSocket;

use super::handler::Handler;

/// Room for any datagram: queries are small, but a peer may send anything.
const RECEIVE_BUFFER: usize = 65_535;
const HEADER_LEN: usize = 12;

pub async fn serve(socket: UdpSocket, handler: Handler) {
    let socket = Arc::new(socket);
    let mut buffer = vec![0u8; RECEIVE_BUFFER];
    loop {
        let (len, peer) = match socket.recv_from(&mut buffer).await {
            Ok(received) => received,
            // ICMP errors of earlier sends and the like: the socket itself is fine.
            Err(error) => {
                tracing::debug!(%error, "UDP receive failed");
                continue;
            }
        };
        let packet = &buffer[..len];
        if len < HEADER_LEN || peer.port() == 0 || packet[2] & 0x80 != 0 {
            continue; // Not a question (too short, a response, or from nowhere): no answer.
        }
        let reply = Reply { socket: socket.clone(), peer };
        let request = match Request::from_bytes(packet.to_vec(), peer, Protocol::Udp) {
            Ok(request) => request,
            Err(_) => {
                reply.send(&format_error(packet)).await;
                continue;
            }
        };
        if request.metadata.op_code == OpCode::Update {
            let handler = handler.clone();
            tokio::spawn(async move { handler.handle_request::<_, TokioTime>(&request, reply).await });
        } else {
            handler.handle_request::<_, TokioTime>(&request, reply).await;
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

/// Sends an answer straight to the asker from the receiving socket.
#[derive(Clone)]
struct Reply {
    socket: Arc<UdpSocket>,
    peer: SocketAddr,
}

impl Reply {
    async fn send(&self, bytes: &[u8]) {
        // Usually the socket has room and the send completes at once, without a wake-up.
        let sent = match self.socket.try_send_to(bytes, self.peer) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => self.socket.send_to(bytes, self.peer).await,
            other => other,
        };
        if let Err(error) = sent {
            tracing::debug!(%error, peer = %self.peer, "UDP send failed");
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
        let (info, bytes) = encode(response)?;
        self.send(&bytes).await;
        Ok(info)
    }
}

/// The answer's bytes within the client's UDP limit (512 without EDNS); an answer that
/// cannot be encoded becomes SERVFAIL rather than silence.
fn encode<'a>(
    response: MessageResponse<
        '_,
        'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
    >,
) -> Result<(ResponseInfo, Vec<u8>), NetError> {
    let metadata = *response.metadata();
    let limit = response.edns().map_or(512, Edns::max_payload);
    let mut bytes = Vec::with_capacity(512);
    let mut encoder = BinEncoder::new(&mut bytes);
    encoder.set_max_size(limit);
    if let Ok(info) = response.destructive_emit(&mut encoder) {
        return Ok((info, bytes));
    }
    let mut failure = Metadata::response_from_request(&metadata);
    failure.response_code = ResponseCode::ServFail;
    let header = Header { metadata: failure, counts: HeaderCounts::default() };
    bytes.clear();
    header.emit(&mut BinEncoder::new(&mut bytes)).map_err(|e| NetError::from(e.to_string()))?;
    Ok((ResponseInfo::from(header), bytes))
}
