//! DNS over TCP (RFC 7766) with limits a stranger cannot exhaust: connections per client
//! address and in total are bounded, and when the server is full a new connection takes the
//! place of the one idle longest, so honest clients are answered while others hold hundreds
//! of connections open doing nothing.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hickory_proto::rr::Record;
use hickory_server::net::NetError;
use hickory_server::net::runtime::TokioTime;
use hickory_server::net::xfer::Protocol;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponse;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use super::handler::Handler;

/// Limits on TCP clients.
#[derive(Debug, Clone)]
pub struct TcpLimits {
    /// Open connections in all.
    pub total: usize,
    /// Open connections from one address.
    pub per_client: usize,
    /// How long a connection may wait for its next query (RFC 7766 §6.2.3).
    pub idle: Duration,
}

impl Default for TcpLimits {
    fn default() -> Self {
        Self { total: 1000, per_client: 20, idle: Duration::from_secs(10) }
    }
}

/// The soft limit on open files, raised to the hard limit first: systemd and most shells
/// start services at 1024 while allowing far more.
pub fn open_file_limit() -> Option<usize> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    usize::try_from(limit.rlim_cur).ok()
}

/// How long a query may take to arrive once its length has, and an answer to be taken.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

struct Connection {
    client: IpAddr,
    /// Since when it has waited for a query; None while one is being answered.
    idle_since: Option<Instant>,
    close: Arc<Notify>,
}

/// The open connections, shared by the accept loop and the connections themselves.
#[derive(Default)]
pub struct Connections {
    open: Mutex<HashMap<u64, Connection>>,
    next_id: AtomicU64,
    /// Connections refused or closed to make room, for /metrics.
    pub shed: AtomicU64,
}

impl Connections {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Connection>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn count(&self) -> usize {
        self.lock().len()
    }

    /// Admits a connection from `client`, closing the longest-idle one when the server is
    /// full; None when the client already has its share or nothing can make room.
    fn admit(&self, client: IpAddr, limits: &TcpLimits) -> Option<(u64, Arc<Notify>)> {
        let mut open = self.lock();
        if open.values().filter(|c| c.client == client).count() >= limits.per_client {
            return None;
        }
        if open.len() >= limits.total {
            let idlest = open.iter().filter_map(|(id, c)| Some((c.idle_since?, *id))).min()?;
            if let Some(evicted) = open.remove(&idlest.1) {
                evicted.close.notify_one();
                self.shed.fetch_add(1, Ordering::Relaxed);
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let close = Arc::new(Notify::new());
        open.insert(id, Connection { client, idle_since: Some(Instant::now()), close: close.clone() });
        Some((id, close))
    }

    fn set_idle(&self, id: u64, idle: bool) {
        if let Some(c) = self.lock().get_mut(&id) {
            c.idle_since = idle.then(Instant::now);
        }
    }

    fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }
}

/// Accepts connections for as long as the listener lives.
pub async fn serve(listener: TcpListener, handler: Handler, limits: TcpLimits, connections: Arc<Connections>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of descriptors and the like: wait a little rather than spin.
                tracing::warn!(%error, "TCP accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some((id, close)) = connections.admit(peer.ip(), &limits) else {
            connections.shed.fetch_add(1, Ordering::Relaxed);
            continue; // Dropping the stream closes it.
        };
        let (handler, connections, idle) = (handler.clone(), connections.clone(), limits.idle);
        tokio::spawn(async move {
            tokio::select! {
                () = converse(stream, peer, &handler, &connections, id, idle) => {}
                () = close.notified() => {}
            }
            connections.remove(id);
        });
    }
}

/// Reads length-prefixed queries and answers each in turn until the client is done, idles
/// too long, or sends something that is not DNS.
async fn converse(
    stream: TcpStream,
    peer: SocketAddr,
    handler: &Handler,
    connections: &Connections,
    id: u64,
    idle: Duration,
) {
    let _ = stream.set_nodelay(true);
    let (mut reader, writer) = stream.into_split();
    let reply = TcpReply { writer: Arc::new(tokio::sync::Mutex::new(writer)) };
    loop {
        let Ok(Ok(length)) = tokio::time::timeout(idle, reader.read_u16()).await else { return };
        connections.set_idle(id, false);
        let mut message = vec![0u8; usize::from(length)];
        if !matches!(tokio::time::timeout(IO_TIMEOUT, reader.read_exact(&mut message)).await, Ok(Ok(_))) {
            return;
        }
        let Ok(request) = Request::from_bytes(message, peer, Protocol::Tcp) else { return };
        handler.handle_request::<_, TokioTime>(&request, reply.clone()).await;
        connections.set_idle(id, true);
    }
}

#[derive(Clone)]
struct TcpReply {
    writer: Arc<tokio::sync::Mutex<OwnedWriteHalf>>,
}

#[async_trait::async_trait]
impl ResponseHandler for TcpReply {
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
        let (info, bytes) = super::handler::emit(response, u16::MAX).map_err(|e| NetError::from(e.to_string()))?;
        let length = u16::try_from(bytes.len()).map_err(|_| NetError::from("answer too long for TCP"))?;
        let mut framed = Vec::with_capacity(bytes.len() + 2);
        framed.extend_from_slice(&length.to_be_bytes());
        framed.extend_from_slice(&bytes);
        let mut writer = self.writer.lock().await;
        match tokio::time::timeout(IO_TIMEOUT, writer.write_all(&framed)).await {
            Ok(Ok(())) => Ok(info),
            Ok(Err(e)) => Err(NetError::from(e.to_string())),
            Err(_) => Err(NetError::from("the client does not take its answer")),
        }
    }
}
