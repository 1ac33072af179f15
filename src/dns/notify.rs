//! NOTIFY out (RFC 1996): after each change, every secondary is told the zone's new serial,
//! and told again (with growing pauses) until it acknowledges. A newer change supersedes an
//! older one still being retried.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use tokio::sync::mpsc;

use super::convert::absolute_name;
use super::serial_newer;

const ATTEMPTS: u32 = 8;
const FIRST_WAIT: Duration = Duration::from_secs(1);
const MAX_WAIT: Duration = Duration::from_secs(30);

/// The last NOTIFY to one secondary about one zone.
#[derive(Debug, Clone)]
pub struct NotifyState {
    pub serial: u32,
    pub acknowledged: bool,
}

type Key = (String, SocketAddr);

pub struct Notifier {
    targets: Vec<SocketAddr>,
    metrics: Arc<crate::metrics::Metrics>,
    queue: OnceLock<mpsc::UnboundedSender<(String, u32, Vec<SocketAddr>)>>,
    state: Arc<Mutex<HashMap<Key, NotifyState>>>,
}

impl Notifier {
    pub fn new(targets: Vec<SocketAddr>, metrics: Arc<crate::metrics::Metrics>) -> Self {
        Self { targets, metrics, queue: OnceLock::new(), state: Arc::default() }
    }

    pub fn start(&self, runtime: &tokio::runtime::Handle) {
        let (sender, mut receiver) = mpsc::unbounded_channel::<(String, u32, Vec<SocketAddr>)>();
        if self.queue.set(sender).is_err() {
            return;
        }
        let targets = self.targets.clone();
        let state = self.state.clone();
        let metrics = self.metrics.clone();
        runtime.spawn(async move {
            while let Some((zone, serial, extra)) = receiver.recv().await {
                let mut all = targets.clone();
                all.extend(extra.into_iter().filter(|t| !targets.contains(t)));
                for target in &all {
                    tokio::spawn(notify_until_acknowledged(
                        zone.clone(),
                        serial,
                        *target,
                        state.clone(),
                        metrics.clone(),
                    ));
                }
            }
        });
    }

    /// Queues NOTIFYs to the server-wide secondaries and the zone's own.
    pub fn zone_changed(&self, zone: &str, serial: u32, zone_targets: &[SocketAddr]) {
        if self.targets.is_empty() && zone_targets.is_empty() {
            return;
        }
        if let Some(queue) = self.queue.get() {
            let _ = queue.send((zone.to_string(), serial, zone_targets.to_vec()));
        }
    }

    pub fn state(&self) -> Vec<(String, SocketAddr, NotifyState)> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.iter().map(|((zone, target), s)| (zone.clone(), *target, s.clone())).collect()
    }
}

async fn notify_until_acknowledged(
    zone: String,
    serial: u32,
    target: SocketAddr,
    state: Arc<Mutex<HashMap<Key, NotifyState>>>,
    metrics: Arc<crate::metrics::Metrics>,
) {
    let key = (zone.clone(), target);
    let Some(name) = absolute_name(&zone) else { return };
    let mut wait = FIRST_WAIT;
    for _ in 0..ATTEMPTS {
        {
            let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
            let entry = state.entry(key.clone()).or_insert(NotifyState { serial, acknowledged: false });
            if serial_newer(entry.serial, serial) {
                return; // a newer change is being announced
            }
            *entry = NotifyState { serial, acknowledged: false };
        }
        metrics.notifies_sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if send_notify(&name, target, wait).await {
            metrics.notifies_acknowledged.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(entry) = state.get_mut(&key).filter(|e| e.serial == serial) {
                entry.acknowledged = true;
            }
            tracing::info!(%zone, serial, %target, "NOTIFY acknowledged");
            return;
        }
        wait = (wait * 2).min(MAX_WAIT);
    }
    tracing::warn!(%zone, serial, %target, "NOTIFY not acknowledged, giving up");
}

/// One NOTIFY and the wait for its answer.
async fn send_notify(zone: &Name, target: SocketAddr, wait: Duration) -> bool {
    let id: u16 = rand::random();
    let mut message = Message::new(id, MessageType::Query, OpCode::Notify);
    message.metadata.authoritative = true;
    message.add_query(Query::query(zone.clone(), RecordType::SOA));
    let Ok(bytes) = message.to_vec() else { return false };
    let bind: SocketAddr =
        if target.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { (std::net::Ipv6Addr::UNSPECIFIED, 0).into() };
    let Ok(socket) = tokio::net::UdpSocket::bind(bind).await else { return false };
    if socket.send_to(&bytes, target).await.is_err() {
        return false;
    }
    let mut buffer = [0u8; 4096];
    let answer = tokio::time::timeout(wait, async {
        loop {
            let Ok((len, from)) = socket.recv_from(&mut buffer).await else { return false };
            if from != target {
                continue;
            }
            if let Ok(reply) = Message::from_vec(&buffer[..len])
                && reply.metadata.id == id
                && reply.metadata.message_type == MessageType::Response
            {
                return true;
            }
        }
    });
    answer.await.unwrap_or(false)
}
