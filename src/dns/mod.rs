//! The authoritative nameserver: the only module that imports hickory. Answers come from an
//! immutable `ZoneSet` behind an `ArcSwap`; `service` publishes a new snapshot of a zone after
//! each commit, before its caller answers.

mod axfr_in;
mod convert;
mod handler;
mod mmsg;
mod notify;
pub mod packet_cache;
pub mod rrl;
pub mod snapshot;
pub mod tcp;
mod transfer;
mod tsig;
mod udp;
mod update;

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use ipnet::IpNet;

use crate::domain::record::Record;
use crate::domain::tsig::TsigKey;
use crate::domain::zone::Zone;
use crate::metrics::Metrics;
use crate::service::nameserver::{Nameserver, NotifyStatus, RecordSource, Status};
use crate::store::StoreError;
use snapshot::{ZoneSet, ZoneSnapshot};
use std::sync::atomic::Ordering;

/// Server-wide nameserver settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Apex NS names (the first is the SOA MNAME), used unless a zone has its own apex NS.
    pub ns_names: Vec<String>,
    /// SOA RNAME, as `hostmaster@example.net` or `hostmaster.example.net`; default
    /// `hostmaster.<zone>`.
    pub hostmaster: Option<String>,
    /// Who may transfer every zone (AXFR/IXFR).
    pub allow_transfer: Vec<IpNet>,
    /// Secondaries told about every change.
    pub notify: Vec<SocketAddr>,
    /// Response rate limiting over UDP.
    pub rrl: rrl::RrlSettings,
    /// Bounds on TCP connections.
    pub tcp: tcp::TcpLimits,
    /// Answers kept for repeated questions (0: none).
    pub packet_cache: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            ns_names: vec!["ns1.nsbox.invalid".into()],
            hostmaster: None,
            allow_transfer: Vec::new(),
            notify: Vec::new(),
            rrl: rrl::RrlSettings::default(),
            tcp: tcp::TcpLimits::default(),
            packet_cache: packet_cache::DEFAULT_ENTRIES,
        }
    }
}

/// The zones being served, and what to do when one changes.
pub struct Catalog {
    zones: ArcSwap<ZoneSet>,
    pub metrics: Arc<Metrics>,
    tsig_keys: ArcSwap<Vec<Arc<tsig::Key>>>,
    /// Signed updates already applied, so none is applied twice.
    pub replays: tsig::Replays,
    /// Response rate limiting of UDP answers.
    pub rrl: rrl::Rrl,
    /// Open TCP connections.
    tcp: Arc<tcp::Connections>,
    /// Answers to repeated plain UDP queries.
    pub packets: packet_cache::PacketCache,
    settings: Settings,
    notifier: notify::Notifier,
}

impl Catalog {
    pub fn new(settings: Settings, metrics: Arc<Metrics>) -> Self {
        Self {
            zones: ArcSwap::from_pointee(ZoneSet::default()),
            tsig_keys: ArcSwap::from_pointee(Vec::new()),
            replays: tsig::Replays::default(),
            rrl: rrl::Rrl::new(settings.rrl.clone()),
            tcp: Arc::default(),
            packets: packet_cache::PacketCache::new(settings.packet_cache),
            notifier: notify::Notifier::new(settings.notify.clone(), metrics.clone()),
            metrics,
            settings,
        }
    }

    fn tsig_keys(&self) -> Arc<Vec<Arc<tsig::Key>>> {
        self.tsig_keys.load_full()
    }

    /// Serves the zone set `edit` makes of the current one; `edit` says whether it changed
    /// anything (it may run more than once, if writers race). A change makes the packet
    /// cache's answers stale in the same step, so none outlives the zones it came from.
    fn change_zones(&self, edit: impl Fn(&mut ZoneSet) -> bool) -> bool {
        let mut changed = false;
        self.zones.rcu(|current| {
            let mut next = ZoneSet::clone(current);
            changed = edit(&mut next);
            next
        });
        if changed {
            self.packets.invalidate();
        }
        changed
    }

    /// Counts the signatures a new version of a zone made, and when its first one expires.
    fn count_signing(&self, snapshot: &ZoneSnapshot) {
        let outcome = snapshot.signing.as_ref().map(|s| s.as_ref().copied().map_err(|_| ()));
        self.metrics.zone_signed(&snapshot.domain, outcome, crate::domain::now());
    }

    pub fn current(&self) -> Arc<ZoneSet> {
        self.zones.load_full()
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Starts the NOTIFY sender; needs a Tokio runtime.
    pub fn start_notifier(&self, runtime: &tokio::runtime::Handle) {
        self.notifier.start(runtime);
    }
}

impl Nameserver for Catalog {
    fn publish(&self, zone: &Zone, records: RecordSource) -> Result<(), StoreError> {
        let snapshot = Arc::new(ZoneSnapshot::build(zone, &self.settings, records)?);
        self.count_signing(&snapshot);
        let newer = self.change_zones(|set| {
            let served = set.get(&zone.domain).filter(|z| z.id == zone.id);
            let newer = served.is_none_or(|z| serial_newer(zone.serial, z.serial));
            if newer {
                set.insert_arc(snapshot.clone());
            }
            newer
        });
        if newer {
            self.notifier.zone_changed(&zone.domain, zone.serial, &zone.notify);
        }
        Ok(())
    }

    fn apply(&self, zone: &Zone, from_serial: u32, removed: &[Record], added: &[Record]) -> bool {
        let current = self.zones.load();
        let Some(served) = current.get(&zone.domain).filter(|z| z.id == zone.id && z.serial == from_serial) else {
            return false;
        };
        let Some(next) = served.apply(zone, removed, added, &self.settings) else { return false };
        let next = Arc::new(next);
        self.count_signing(&next);
        self.change_zones(|set| {
            set.insert_arc(next.clone());
            true
        });
        self.notifier.zone_changed(&zone.domain, zone.serial, &zone.notify);
        true
    }

    fn signed_until(&self, domain: &str) -> Option<i64> {
        self.zones.load().get(domain)?.signed_until()
    }

    fn remove(&self, domain: &str) {
        self.metrics.zone_signed(domain, None, 0);
        self.change_zones(|set| {
            set.remove(domain);
            true
        });
    }

    fn renotify(&self, zone: &Zone) {
        self.notifier.zone_changed(&zone.domain, zone.serial, &zone.notify);
    }

    fn apex(&self, domain: &str) -> Option<(String, Vec<String>)> {
        let zones = self.zones.load();
        let zone = zones.get(domain)?;
        Some((zone.soa.data.to_string(), zone.apex_ns()))
    }

    fn set_tsig_keys(&self, keys: &[TsigKey]) {
        self.tsig_keys.store(Arc::new(tsig::keys(keys)));
    }

    fn notify_status(&self) -> Vec<NotifyStatus> {
        let state = self.notifier.state().into_iter();
        state
            .map(|(zone, target, s)| NotifyStatus { zone, target, serial: s.serial, acknowledged: s.acknowledged })
            .collect()
    }

    fn pull(&self, server: &str, domain: &str, tsig: Option<&str>, local_allowed: bool) -> Result<String, String> {
        axfr_in::fetch(server, domain, tsig, local_allowed)
    }

    fn status(&self) -> Status {
        Status {
            zones: self.zones.load().len(),
            rrl_dropped: self.rrl.dropped.load(Ordering::Relaxed),
            rrl_slipped: self.rrl.slipped.load(Ordering::Relaxed),
            tcp_open: self.tcp.count(),
            tcp_shed: self.tcp.shed.load(Ordering::Relaxed),
        }
    }
}

/// RFC 1982 serial arithmetic: whether `a` is newer than `b`.
pub fn serial_newer(a: u32, b: u32) -> bool {
    a != b && a.wrapping_sub(b) < 0x8000_0000
}

/// DNS listeners bound before start (tests bind port 0): UDP and TCP on the same address.
pub struct Listener {
    pub udp: UdpSocket,
    pub tcp: TcpListener,
}

impl Listener {
    /// Binds UDP and TCP on `addr`; with port 0, on one free port for both.
    pub fn bind(addr: SocketAddr) -> std::io::Result<Listener> {
        let mut last_error = None;
        for _ in 0..20 {
            let udp = UdpSocket::bind(addr)?;
            let bound = udp.local_addr()?;
            match TcpListener::bind(bound) {
                Ok(tcp) => return Ok(Listener { udp, tcp }),
                Err(e) if addr.port() == 0 => last_error = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| std::io::Error::other("no free port")))
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.udp.local_addr()
    }
}

/// A running nameserver.
pub struct Running {
    runtime: tokio::runtime::Runtime,
    /// The UDP receive loops and TCP accept loops.
    loops: Vec<tokio::task::JoinHandle<()>>,
}

pub fn serve(
    catalog: Arc<Catalog>,
    service: Arc<crate::service::Service>,
    listeners: Vec<Listener>,
    threads: usize,
) -> std::io::Result<Running> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .thread_name("nsbox-dns")
        .enable_all()
        .build()?;
    catalog.start_notifier(runtime.handle());
    let (limits, connections) = (catalog.settings.tcp.clone(), catalog.tcp.clone());
    let handler = handler::Handler::new(catalog, service);
    let loops = runtime.block_on(async move {
        let mut loops = Vec::new();
        for listener in listeners {
            listener.udp.set_nonblocking(true)?;
            listener.tcp.set_nonblocking(true)?;
            let socket = Arc::new(tokio::net::UdpSocket::from_std(listener.udp)?);
            for _ in 0..threads.max(1) {
                loops.push(tokio::spawn(udp::serve(socket.clone(), handler.clone())));
            }
            let tcp = tokio::net::TcpListener::from_std(listener.tcp)?;
            loops.push(tokio::spawn(tcp::serve(tcp, handler.clone(), limits.clone(), connections.clone())));
        }
        Ok::<_, std::io::Error>(loops)
    })?;
    Ok(Running { runtime, loops })
}

impl Running {
    pub fn stop(self) {
        self.loops.iter().for_each(tokio::task::JoinHandle::abort);
        self.runtime.shutdown_timeout(Duration::from_secs(5));
    }
}
