//! RRsets — all the records of one name and type — as PowerDNS's API and DynDNS2 change them,
//! on top of nsbox's records with ids of their own: a REPLACE keeps every record whose data
//! did not change (and its id), so the other dialects and the history see the smallest change.

use super::records::insert;
use super::{Actor, Diff, Result, Service};
use crate::domain::auth::Scope;
use crate::domain::now;
use crate::domain::record::{self, Record, RecordData, RecordInput, RecordType};
use crate::store::Read;

/// What to do with an RRset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RrsetAction {
    /// The RRset becomes exactly these records.
    Replace,
    /// The RRset goes.
    Delete,
    /// These records join the RRset.
    Extend,
    /// These records leave the RRset.
    Prune,
}

/// One RRset change: its owner name (absolute, with or without the dot, or relative), type,
/// TTL and records' data in presentation form (MX and SRV with their priority in front).
#[derive(Debug, Clone)]
pub struct RrsetChange {
    pub name: String,
    pub rtype: String,
    pub ttl: Option<i64>,
    pub contents: Vec<String>,
    pub action: RrsetAction,
}

impl Service {
    /// Applies RRset changes to one zone, all of them or none, as one change of the zone.
    /// Returns whether anything changed.
    pub fn change_rrsets(&self, actor: &Actor, zone_id: &str, changes: &[RrsetChange]) -> Result<bool> {
        for scope in [Scope::Create, Scope::Update, Scope::Delete] {
            actor.require(scope)?;
        }
        self.change_zone(actor, zone_id, "rrset.change", |txn, zone| {
            let mut diff = Diff::default();
            // The SOA is nsbox's own: changes to it are left out, as PowerDNS leaves out
            // what its API does not manage.
            for change in changes.iter().filter(|c| !c.rtype.eq_ignore_ascii_case("SOA")) {
                let rtype: RecordType = change.rtype.parse()?;
                let name = crate::domain::name::parse_owner(&change.name, &zone.domain)?;
                let wanted = change
                    .contents
                    .iter()
                    .map(|content| {
                        let input = RecordInput {
                            rtype: Some(change.rtype.clone()),
                            name: Some(change.name.clone()),
                            content: Some(content.clone()),
                            ttl: change.ttl,
                            priority: None,
                        };
                        record::validate_record(&zone.domain, &input, 3600, self.ttl_policy)
                    })
                    .collect::<Result<Vec<RecordData>, _>>()?;
                let existing: Vec<Record> =
                    txn.records_named(&zone.id, &name)?.into_iter().filter(|r| r.data.rtype == rtype).collect();
                let listed = |r: &&Record| wanted.iter().any(|w| w.same_rdata(&r.data));
                let leaving: Vec<&Record> = match change.action {
                    RrsetAction::Replace => existing.iter().filter(|r| !listed(r)).collect(),
                    RrsetAction::Delete => existing.iter().collect(),
                    RrsetAction::Prune => existing.iter().filter(listed).collect(),
                    RrsetAction::Extend => Vec::new(),
                };
                for old in leaving {
                    txn.delete_record(old)?;
                    diff.removed.push(old.clone());
                }
                if matches!(change.action, RrsetAction::Delete | RrsetAction::Prune) {
                    continue;
                }
                for data in wanted {
                    match existing.iter().find(|r| r.data.same_rdata(&data)) {
                        // Kept, with its id; only a new TTL changes it.
                        Some(old) if old.data.ttl == data.ttl => {}
                        Some(old) => {
                            let updated = Record { data, updated_at: now(), ..old.clone() };
                            txn.put_record(&updated, Some(old))?;
                            diff.removed.push(old.clone());
                            diff.added.push(updated);
                        }
                        None => diff.added.push(insert(txn, zone, data)?),
                    }
                }
            }
            let changed = !(diff.added.is_empty() && diff.removed.is_empty());
            Ok((changed, diff))
        })
    }
}
