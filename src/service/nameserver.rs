//! What the service needs from the nameserver: an interface the service owns, so `dns`
//! depends on `service` and never the reverse. `dns::Catalog` implements it.

use std::net::SocketAddr;

use crate::domain::record::Record;
use crate::domain::tsig::TsigKey;
use crate::domain::zone::Zone;
use crate::store::StoreError;

/// Hands a zone's records, one by one, to the callback it is given.
pub type RecordSource<'a> = &'a mut dyn FnMut(&mut dyn FnMut(Record)) -> Result<(), StoreError>;

/// The last NOTIFY sent for a zone to one secondary.
pub struct NotifyStatus {
    pub zone: String,
    pub target: SocketAddr,
    pub serial: u32,
    pub acknowledged: bool,
}

pub trait Nameserver: Send + Sync {
    /// Serves this version of a zone, built from `records`, from now on, and tells the
    /// secondaries. A version older than the one served is ignored.
    fn publish(&self, zone: &Zone, records: RecordSource) -> Result<(), StoreError>;
    /// Serves a zone's next version by applying one committed change to the version being
    /// served; false when that is not possible (then `publish` the whole zone).
    fn apply(&self, zone: &Zone, from_serial: u32, removed: &[Record], added: &[Record]) -> bool;
    /// When the first signature of the zone being served expires (Unix seconds); None when
    /// it is not served signed.
    fn signed_until(&self, domain: &str) -> Option<i64>;
    /// Stops serving a zone.
    fn remove(&self, domain: &str);
    /// Tells the secondaries of `zone` of its current serial again.
    fn renotify(&self, zone: &Zone);
    /// The SOA data and apex NS names served for `domain`, as zone-file text.
    fn apex(&self, domain: &str) -> Option<(String, Vec<String>)>;
    /// The TSIG keys transfers and updates may be signed with, from now on.
    fn set_tsig_keys(&self, keys: &[TsigKey]);
    /// Each secondary's last NOTIFY per zone.
    fn notify_status(&self) -> Vec<NotifyStatus>;
    /// What the nameserver is doing, for the dashboard and /metrics.
    fn status(&self) -> Status;
    /// `domain` as `server` (`host:port`) sends it by AXFR, optionally signed with `tsig`
    /// (`NAME:ALGORITHM:SECRET`), as zone-file text; `local_allowed` lets it be a loopback
    /// or private address. Errors are for a person to read.
    fn pull(&self, server: &str, domain: &str, tsig: Option<&str>, local_allowed: bool) -> Result<String, String>;
}

/// Counts the nameserver keeps.
pub struct Status {
    pub zones: usize,
    /// UDP answers response rate limiting dropped, and sent truncated.
    pub rrl_dropped: u64,
    pub rrl_slipped: u64,
    /// TCP connections open, and refused or closed to make room.
    pub tcp_open: usize,
    pub tcp_shed: u64,
}
