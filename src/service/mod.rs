//! Use cases shared by the API dialects, the console and the CLI. The only writer:
//! authorise → validate → one store transaction (+ journal and audit) → publish to the
//! nameserver. Methods block (redb, argon2): async callers run them on a blocking pool.

mod accounts;
mod catalog_zone;
mod dnssec;
mod guard;
mod history;
pub mod nameserver;
mod quota;
mod ratelimit;
mod records;
mod rrsets;
pub mod templates;
mod tsig;
mod update;
mod zonefile;
mod zones;

use std::sync::Arc;

use crate::domain::auth::Scope;
use crate::domain::record::Record;
use crate::domain::zone::{self, Zone};
use crate::domain::{ValidationError, now_precise};
use crate::metrics::Metrics;
use crate::store::{AuditEntry, Author, JournalEntry, Read, Store, StoreError, Txn};

pub use accounts::{NewToken, UserChange};
pub use dnssec::RESIGN_BEFORE;
pub use quota::Quotas;
pub use ratelimit::{Bucket, Limits, RateLimiter, RateStatus};
pub use records::{BulkError, RecordChange};
pub use rrsets::{RrsetAction, RrsetChange};
pub use update::{Prerequisite, UpdateFailure, UpdateOp};
pub use zonefile::{ImportMode, ImportReport};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Validation(#[from] ValidationError),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("Invalid or missing API key")]
    Unauthorized,
    #[error("Rate limit exceeded: {} requests per minute", .0.limit)]
    RateLimited(RateStatus),
    #[error(transparent)]
    Storage(#[from] StoreError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A call that did not finish: it panicked, or the blocking pool it was sent to is gone.
    pub fn unfinished_call() -> Self {
        Error::Storage(StoreError::Corrupt("the call did not finish".into()))
    }
}

/// Who is asking, and what they may do. A token narrows its user's rights to its scopes and,
/// optionally, to listed zones; the console and CLI act with the user's full rights.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: String,
    pub username: String,
    pub admin: bool,
    /// "tok_…", "console" or "cli": recorded in the audit trail.
    pub via: String,
    /// None: every scope.
    pub scopes: Option<Vec<Scope>>,
    /// Domains the actor is limited to; empty: all of the user's zones.
    pub zones: Vec<String>,
    /// Names whose records the actor may change (a dynamic-DNS token's); empty: any.
    pub names: Vec<String>,
}

impl Actor {
    pub fn require(&self, scope: Scope) -> Result<()> {
        match &self.scopes {
            Some(scopes) if !scopes.contains(&scope) => {
                Err(Error::Forbidden(format!("Token lacks {scope} permission")))
            }
            _ => Ok(()),
        }
    }

    /// Server administration. A token's `admin` flag already says whether it holds the
    /// `admin` scope, without a zone limit, for an admin user (`Service::authenticate`).
    pub fn require_admin(&self) -> Result<()> {
        if self.admin {
            Ok(())
        } else if self.scopes.is_some() {
            Err(Error::Forbidden("This requires an admin user's token with the admin scope and no zone limit".into()))
        } else {
            Err(Error::Forbidden("This requires an admin user".into()))
        }
    }

    /// Whether this actor may hand `scope` to a new token.
    fn may_grant(&self, scope: Scope) -> bool {
        match scope {
            Scope::Admin => self.admin,
            other => self.require(other).is_ok(),
        }
    }

    /// Whether this actor holds every right of `token`: a token may not revoke a stronger one.
    fn covers(&self, token: &crate::domain::auth::Token) -> bool {
        let zones_covered =
            self.zones.is_empty() || (!token.zones.is_empty() && token.zones.iter().all(|z| self.may_use_domain(z)));
        let names_covered =
            self.names.is_empty() || (!token.names.is_empty() && token.names.iter().all(|n| self.names.contains(n)));
        token.scopes.iter().all(|s| self.may_grant(*s)) && zones_covered && names_covered
    }

    /// Zones themselves (creating, deleting, their settings) are beyond a token limited to
    /// some names.
    fn require_all_names(&self) -> Result<()> {
        if self.names.is_empty() {
            Ok(())
        } else {
            Err(Error::Forbidden("This token may only change the records of its names".into()))
        }
    }

    fn may_use_domain(&self, domain: &str) -> bool {
        self.zones.is_empty() || self.zones.iter().any(|z| z == domain)
    }

    /// Another user's zone, or one outside the token's list, does not exist for this actor.
    fn sees(&self, zone: &Zone) -> bool {
        zone.owner == self.user_id && self.may_use_domain(&zone.domain)
    }
}

/// What one change did to a zone's records.
#[derive(Default)]
struct Diff {
    removed: Vec<Record>,
    added: Vec<Record>,
}

pub struct Service {
    store: Store,
    nameserver: Arc<dyn nameserver::Nameserver>,
    metrics: Arc<Metrics>,
    /// Held from a zone change's commit until the nameserver serves it.
    publish_lock: std::sync::Mutex<()>,
    tokens: accounts::TokenCache,
    guard: guard::AuthGuard,
    pub limiter: RateLimiter,
    templates: templates::Library,
    /// Where a user may have a zone's NOTIFY sent (admins anywhere): a stranger's zone must
    /// not make this server send packets to any host and port they name.
    notify_to: Vec<ipnet::IpNet>,
    quotas: Quotas,
    ttl_policy: crate::domain::record::TtlPolicy,
    usage: quota::Usage,
    /// The catalog zone's name (RFC 9432), when one is served.
    catalog_zone: Option<String>,
    /// How signed zones' keys age and roll.
    dnssec_policy: crate::domain::dnssec::Policy,
    /// One zone-file import at a time: each holds its whole file and parse in memory.
    imports: std::sync::Mutex<()>,
}

impl Service {
    pub fn new(
        store: Store,
        limits: Limits,
        nameserver: Arc<dyn nameserver::Nameserver>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, templates::TemplateError> {
        Ok(Self {
            store,
            nameserver,
            metrics,
            publish_lock: std::sync::Mutex::new(()),
            tokens: accounts::TokenCache::default(),
            guard: guard::AuthGuard::default(),
            limiter: RateLimiter::new(limits),
            templates: templates::Library::embedded()?,
            notify_to: Vec::new(),
            quotas: Quotas::default(),
            ttl_policy: crate::domain::record::TtlPolicy::default(),
            usage: quota::Usage::default(),
            imports: std::sync::Mutex::new(()),
            catalog_zone: None,
            dnssec_policy: crate::domain::dnssec::Policy::default(),
        })
    }

    pub fn with_quotas(mut self, quotas: Quotas) -> Self {
        self.quotas = quotas;
        self
    }

    pub fn with_dnssec_policy(mut self, policy: crate::domain::dnssec::Policy) -> Self {
        self.dnssec_policy = policy;
        self
    }

    pub fn dnssec_policy(&self) -> &crate::domain::dnssec::Policy {
        &self.dnssec_policy
    }

    pub fn with_ttl_policy(mut self, policy: crate::domain::record::TtlPolicy) -> Self {
        self.ttl_policy = policy;
        self
    }

    /// Lets users send their zones' NOTIFY to these networks.
    pub fn allow_notify_to(mut self, networks: Vec<ipnet::IpNet>) -> Self {
        self.notify_to = networks;
        self
    }

    pub fn templates(&self) -> &[templates::Template] {
        self.templates.all()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn nameserver(&self) -> &dyn nameserver::Nameserver {
        self.nameserver.as_ref()
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Hands the committed state of a zone to the nameserver. Called after every commit that
    /// touched a zone, before the caller answers, so the change is on the wire first.
    fn publish(&self, zone_id: &str) -> Result<()> {
        self.store.read(|r| match r.zone(zone_id)? {
            Some(zone) => Ok(self.nameserver.publish(&zone, &mut |add| r.each_record(&zone.id, add))?),
            None => Ok(()),
        })
    }

    /// A consistent copy of the data file, for admins to download: the bytes of a redb file
    /// staged in the temp directory.
    pub fn backup(&self, actor: &Actor) -> Result<Vec<u8>> {
        actor.require_admin()?;
        let staged = std::env::temp_dir().join(format!("nsbox-backup-{}.redb", crate::domain::random_string(12)));
        let copied = self.store.backup_to(&staged).and_then(|()| {
            std::fs::read(&staged).map_err(|e| crate::store::StoreError::Corrupt(format!("cannot read the copy: {e}")))
        });
        let _ = std::fs::remove_file(&staged);
        Ok(copied?)
    }

    /// Records in all zones (for the metrics).
    pub fn record_total(&self) -> Result<u64> {
        Ok(self.store.read(|r| Ok::<_, Error>(r.zones()?))?.iter().map(|z| z.record_count).sum())
    }

    /// Serves every stored zone and TSIG key (at start-up).
    pub fn publish_all(&self) -> Result<usize> {
        self.publish_tsig_keys()?;
        let zones = self.store.read(|r| Ok::<_, Error>(r.zones()?))?;
        for zone in &zones {
            self.publish(&zone.id)?;
        }
        self.publish_catalog()?;
        Ok(zones.len())
    }

    fn visible_zone(&self, reader: &impl Read, actor: &Actor, zone_id: &str) -> Result<Zone> {
        match reader.zone(zone_id)? {
            Some(zone) if actor.sees(&zone) => Ok(zone),
            _ => Err(Error::NotFound("Zone")),
        }
    }

    /// One change to one zone's records, in one transaction: `change` edits the records and
    /// says what it did; the serial, counts and the journal entry (which is also its audit
    /// entry) follow from that. The change is served before this returns; the publish lock
    /// keeps snapshots in commit order.
    fn change_zone<T>(
        &self,
        actor: &Actor,
        zone_id: &str,
        action: &str,
        change: impl FnOnce(&mut Txn, &Zone) -> Result<(T, Diff)>,
    ) -> Result<T> {
        let _in_order = self.publish_lock.lock().unwrap_or_else(|p| p.into_inner());
        let (value, committed) = self.store.write(|txn| -> Result<(T, Option<(Zone, JournalEntry)>)> {
            let mut zone = self.visible_zone(txn, actor, zone_id)?;
            let (value, diff) = change(txn, &zone)?;
            if diff.removed.is_empty() && diff.added.is_empty() {
                return Ok((value, None));
            }
            // Only a token limited to names pays for building each record's full name.
            if !actor.names.is_empty() {
                let outside = diff.added.iter().chain(&diff.removed).find(|r| {
                    let owner = crate::domain::name::absolute(&r.data.name, &zone.domain);
                    !crate::domain::name::policy_allows(&actor.names, &owner)
                });
                if let Some(record) = outside {
                    let message = format!("This token may not change records at '{}'", record.data.name);
                    return Err(Error::Forbidden(message));
                }
            }
            let net_added = diff.added.len().saturating_sub(diff.removed.len()) as u64;
            self.usage.check_records(&self.quotas, actor, net_added, || Ok(txn.zones()?))?;
            let from_serial = zone.serial;
            zone.serial = zone::next_serial(zone.serial, zone::today());
            zone.record_count = (zone.record_count + diff.added.len() as u64).saturating_sub(diff.removed.len() as u64);
            let (at, nanos) = now_precise();
            zone.updated_at = at;
            txn.put_zone(&zone)?;
            let entry = JournalEntry {
                from_serial,
                to_serial: zone.serial,
                at: zone.updated_at,
                removed: diff.removed,
                added: diff.added,
                author: Some(Author {
                    actor: actor.username.clone(),
                    via: actor.via.clone(),
                    action: action.into(),
                    nanos,
                }),
            };
            txn.append_journal(&zone.id, &entry)?;
            Ok((value, Some((zone, entry))))
        })?;
        if let Some((zone, entry)) = committed {
            self.usage.changed(&zone.owner, entry.added.len(), entry.removed.len());
            if !self.nameserver.apply(&zone, entry.from_serial, &entry.removed, &entry.added) {
                self.publish(zone_id)?;
            }
        }
        Ok(value)
    }
}

/// An audit entry: who did what, to which zone if any, with the values before and after.
fn audit(
    actor: &Actor,
    action: &str,
    zone: Option<&Zone>,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> AuditEntry {
    let (at, nanos) = now_precise();
    AuditEntry {
        seq: 0,
        at,
        nanos,
        actor: actor.username.clone(),
        via: actor.via.clone(),
        action: action.to_string(),
        zone_id: zone.map(|z| z.id.clone()),
        zone: zone.map(|z| z.domain.clone()),
        before,
        after,
    }
}

pub type Shared = Arc<Service>;
