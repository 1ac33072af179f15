//! Immutable per-zone snapshots and the authoritative lookup over them (RFC 1034 §4.3.2,
//! RFC 2308, RFC 4592). A snapshot is built after each commit and swapped in whole, so the
//! query path reads memory only and never waits on a writer. Records are kept compact
//! (`node`); an answer's records are made from them per query.

use std::sync::Arc;

use imbl::{HashMap as SharedMap, HashSet as SharedSet, OrdMap};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::CNAME;
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::convert::{absolute_name, from_wire};
use crate::domain::rdata::{self, RecordType as Type};
use node::{Key, Node, RRset};
use secure::Section;

mod build;
mod node;
mod nsec3;
mod secure;
mod sign;

/// How far an in-zone CNAME chain is followed.
const MAX_CHAIN: usize = 8;
const APEX_TTL: u32 = 3600;

const NS: u16 = 2;
const CNAME_CODE: u16 = 5;
const DNAME: u16 = 39;

pub struct ZoneSnapshot {
    pub id: String,
    pub domain: String,
    pub serial: u32,
    pub soa: Record,
    /// Networks that may transfer this zone besides the server-wide ones.
    pub allow_transfer: Vec<ipnet::IpNet>,
    /// The SOA as negative answers carry it: TTL = min(SOA TTL, MINIMUM) (RFC 2308 §3).
    negative_soa: Record,
    /// Every owner name and empty non-terminal, in canonical order. A persistent B-tree: the
    /// next version of a zone shares every leaf a change did not touch with this one.
    nodes: OrdMap<Key, Node>,
    /// Names below the apex that carry NS records: zone cuts.
    cuts: SharedSet<String>,
    /// Names that carry a DNAME: the names below them are rewritten (RFC 6672).
    dnames: SharedSet<String>,
    /// The NSEC3 chain of a zone signed with NSEC3; empty otherwise.
    nsec3: nsec3::Chain,
    /// A signed zone's keys, read for signing its next versions.
    keys: Option<Arc<sign::Keys>>,
    /// How signing this version went: when its first signature expires (Unix seconds) and
    /// how many signatures it made, or why it failed; None for an unsigned zone.
    pub signing: Option<Result<(i64, u64), String>>,
}

/// What a query gets: the sections of the answer and its flags.
#[derive(Default)]
pub struct Lookup {
    pub rcode: ResponseCode,
    pub authoritative: bool,
    /// The answer carries signatures and denial proofs: the client set DO, the zone is signed.
    dnssec: bool,
    pub answers: Vec<Record>,
    pub authority: Vec<Record>,
    pub additional: Vec<Record>,
}

/// The records of `set` under `owner`, made for the wire.
fn records_of<'s>(set: &'s RRset, owner: &'s Name) -> impl Iterator<Item = Record> + 's {
    set.records().filter_map(move |(ttl, rdata)| from_wire(owner.clone(), set.rtype, ttl, rdata))
}

/// The owner name of a node, for the records it answers with.
fn owner_of(key: &str) -> Option<Name> {
    absolute_name(key)
}

impl ZoneSnapshot {
    /// For a zone served signed, when its first signature expires (Unix seconds).
    pub fn signed_until(&self) -> Option<i64> {
        self.signing.as_ref()?.as_ref().ok().map(|(until, _)| *until)
    }

    fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.get(&node::Lookup(name))
    }

    fn set(&self, name: &str, rtype: u16) -> Option<&RRset> {
        self.node(name)?.get(rtype)
    }

    /// Answers `qname` (lowercase, no trailing dot; inside this zone) for `qtype`. `owner` is
    /// the question's name as asked, so answers echo its case.
    /// `dnssec_ok`: the query's DO bit.
    pub fn lookup(&self, qname: &str, owner: &Name, qtype: RecordType, dnssec_ok: bool) -> Lookup {
        let mut out = Lookup { dnssec: dnssec_ok && self.signed_until().is_some(), ..Lookup::default() };
        if let Some(cut) = self.cut_above(qname, qtype) {
            self.referral(cut, &mut out);
            return out;
        }
        out.authoritative = true;
        self.answer(qname, owner, qtype, &mut out, 0);
        out
    }

    /// The DNAME owner strictly above `qname`, if any: the names below it are rewritten.
    fn dname_above<'n>(&self, qname: &'n str) -> Option<&'n str> {
        if self.dnames.is_empty() {
            return None;
        }
        let mut name = qname;
        while let Some(parent) = self.parent(name) {
            if self.dnames.contains(parent) {
                return Some(parent);
            }
            name = parent;
        }
        None
    }

    /// RFC 6672 §3: the DNAME, a CNAME synthesized from it for the name asked, and the answer
    /// at the new name while it stays in this zone. A new name too long is YXDOMAIN.
    fn substitute(
        &self,
        dname_owner: &str,
        qname: &str,
        owner: &Name,
        qtype: RecordType,
        out: &mut Lookup,
        depth: usize,
    ) {
        let Some(node) = self.node(dname_owner) else { return };
        let Some((set, (ttl, wire))) = node.get(DNAME).and_then(|s| Some((s, s.first()?))) else { return };
        let Some(dname_name) = owner_of(dname_owner) else { return };
        self.push_set(Section::Answer, node, set, &dname_name, out);
        let prefix = &qname[..qname.len() - dname_owner.len()];
        let target = rdata::print(Type::DNAME, wire, true);
        let Some(new) =
            target.ok().and_then(|t| Name::from_ascii(format!("{prefix}{}", t.trim_start_matches('.'))).ok())
        else {
            out.rcode = ResponseCode::YXDomain;
            return;
        };
        out.answers.push(Record::from_rdata(owner.clone(), ttl, RData::CNAME(CNAME(new.clone()))));
        self.follow(&new, qtype, out, depth);
    }

    /// The topmost zone cut at or above `qname`; a DS query at the cut itself is the parent's.
    /// Only the name's own ancestors are looked up, so the cost does not grow with the zone.
    fn cut_above<'n>(&self, qname: &'n str, qtype: RecordType) -> Option<&'n str> {
        if self.cuts.is_empty() {
            return None;
        }
        let below_apex = qname.len().checked_sub(self.domain.len() + 1)?;
        // Ancestors from the apex down (shortest first), then the name itself.
        let ancestors =
            qname[..below_apex].rmatch_indices('.').map(|(i, _)| &qname[i + 1..]).chain(std::iter::once(qname));
        ancestors.into_iter().find(|name| self.cuts.contains(*name) && !(*name == qname && qtype == RecordType::DS))
    }

    /// The NS of a zone cut, their glue, and when signed the DS or the proof there is none.
    fn referral(&self, cut: &str, out: &mut Lookup) {
        let (Some(node), Some(owner)) = (self.node(cut), owner_of(cut)) else { return };
        if let Some(set) = node.get(NS) {
            out.authority.extend(records_of(set, &owner));
            out.additional.extend(self.glue(set));
        }
        if out.dnssec {
            match node.get(sign::DS) {
                Some(ds) => self.push_set(Section::Authority, node, ds, &owner, out),
                None => self.deny_ds(cut, node, out),
            }
        }
    }

    /// Addresses of in-zone targets (NS glue; MX, SRV, SVCB and HTTPS targets) for the
    /// additional section.
    fn glue(&self, set: &RRset) -> Vec<Record> {
        let mut out = Vec::new();
        if !matches!(set.rtype, 2 | 15 | 33 | 64 | 65) {
            return out;
        }
        for (_, wire) in set.records() {
            let Some(target) = rdata::targets(Type(set.rtype), wire).into_iter().next() else { continue };
            let key = target.trim_end_matches('.').to_ascii_lowercase();
            let Some((node, owner)) = self.node(&key).zip(owner_of(&key)) else { continue };
            for rtype in [RecordType::A, RecordType::AAAA] {
                if let Some(addresses) = node.get(u16::from(rtype)) {
                    out.extend(records_of(addresses, &owner));
                }
            }
        }
        out
    }

    fn answer(&self, qname: &str, owner: &Name, qtype: RecordType, out: &mut Lookup, depth: usize) {
        if let Some(dname_owner) = self.dname_above(qname) {
            return self.substitute(dname_owner, qname, owner, qtype, out, depth);
        }
        let (node, wildcard) = match self.node(qname) {
            Some(node) => (node, None),
            None => match self.wildcard_for(qname) {
                Some((name, node)) => (node, Some(name)),
                None => {
                    out.rcode = ResponseCode::NXDomain;
                    self.push_negative_soa(out);
                    if out.dnssec {
                        self.deny_name(qname, out);
                    }
                    return;
                }
            },
        };
        let expanded = wildcard.is_some() && out.dnssec;
        if qtype != RecordType::CNAME
            && qtype != RecordType::ANY
            && let Some(cname) = node.get(CNAME_CODE)
        {
            if expanded {
                self.prove_expansion(qname, false, out);
            }
            let first = out.answers.len();
            self.push_set(Section::Answer, node, cname, owner, out);
            // The target as written, so the next owner keeps its case.
            if let Some(RData::CNAME(target)) = out.answers.get(first).map(|r| r.data.clone()) {
                self.follow(&target.0, qtype, out, depth);
            }
            return;
        }
        let found = if qtype == RecordType::ANY {
            // RFC 8482: one RRset is a complete answer to ANY.
            node.rrsets.first()
        } else {
            node.get(u16::from(qtype))
        };
        match found {
            Some(set) => {
                self.push_set(Section::Answer, node, set, owner, out);
                out.additional.extend(self.glue(set));
                if expanded {
                    self.prove_expansion(qname, false, out);
                }
            }
            None => {
                self.push_negative_soa(out);
                if expanded {
                    self.prove_expansion(qname, true, out);
                }
                if out.dnssec {
                    self.deny_type(wildcard.as_deref().unwrap_or(qname), node, out);
                }
            }
        }
    }

    /// Continues an answer at a CNAME's target while it stays in this zone's authority.
    fn follow(&self, target: &Name, qtype: RecordType, out: &mut Lookup, depth: usize) {
        let key = target.to_ascii().trim_end_matches('.').to_ascii_lowercase();
        let in_zone = key == self.domain || key.strip_suffix(&self.domain).is_some_and(|r| r.ends_with('.'));
        if depth + 1 >= MAX_CHAIN || !in_zone {
            return;
        }
        // Into a delegation: the referral joins the answer, as Knot gives it.
        if let Some(cut) = self.cut_above(&key, qtype) {
            return self.referral(cut, out);
        }
        self.answer(&key, target, qtype, out, depth + 1);
    }

    /// RFC 4592: the wildcard at the closest encloser, if the name does not exist.
    fn wildcard_for(&self, qname: &str) -> Option<(String, &Node)> {
        let wildcard = format!("*.{}", self.closest_encloser(qname)?);
        let node = self.node(&wildcard)?;
        Some((wildcard, node))
    }

    /// The longest existing ancestor of a name that does not exist.
    fn closest_encloser<'n>(&self, qname: &'n str) -> Option<&'n str> {
        let mut name = qname;
        while let Some((_, parent)) = name.split_once('.') {
            if parent.len() < self.domain.len() {
                return None;
            }
            if self.node(parent).is_some() {
                return Some(parent);
            }
            name = parent;
        }
        None
    }

    /// The apex NS targets being served, without the trailing dot.
    pub fn apex_ns(&self) -> Vec<String> {
        let Some(set) = self.set(&self.domain, NS) else { return Vec::new() };
        let targets = set.records().filter_map(|(_, wire)| rdata::targets(Type::NS, wire).into_iter().next());
        targets.map(|t| t.trim_end_matches('.').to_string()).collect()
    }

    /// Every record of the zone in canonical order, SOA first (AXFR adds the closing SOA).
    pub fn all_records(&self) -> Vec<Record> {
        let mut out = vec![self.soa.clone()];
        for (key, node) in &self.nodes {
            let Some(owner) = owner_of(key.as_str()) else { continue };
            for set in node.rrsets.iter().filter(|set| set.rtype != u16::from(RecordType::SOA)) {
                out.extend(records_of(set, &owner));
            }
        }
        for (hash, link) in &self.nsec3 {
            let Some(owner) = owner_of(&self.nsec3_owner(hash)) else { continue };
            for set in link.node.rrsets.iter() {
                out.extend(records_of(set, &owner));
            }
        }
        out
    }
}

/// All served zones, found by the longest matching suffix of a query name. A change to one
/// zone publishes a new set, so the map is persistent: the copy shares all but one path with
/// the set before instead of cloning every zone's entry (0.7 ms a change with 5,000 zones).
#[derive(Default, Clone)]
pub struct ZoneSet {
    zones: SharedMap<String, Arc<ZoneSnapshot>>,
}

impl ZoneSet {
    /// The zone `qname` (lowercase, no trailing dot) falls in, if any.
    pub fn find(&self, qname: &str) -> Option<&Arc<ZoneSnapshot>> {
        let mut name = qname;
        loop {
            if let Some(zone) = self.zones.get(name) {
                return Some(zone);
            }
            name = name.split_once('.')?.1;
        }
    }

    pub fn get(&self, domain: &str) -> Option<&Arc<ZoneSnapshot>> {
        self.zones.get(domain)
    }

    pub fn insert_arc(&mut self, zone: Arc<ZoneSnapshot>) {
        self.zones.insert(zone.domain.clone(), zone);
    }

    pub fn remove(&mut self, domain: &str) {
        self.zones.remove(domain);
    }

    pub fn len(&self) -> usize {
        self.zones.len()
    }

    pub fn is_empty(&self) -> bool {
        self.zones.is_empty()
    }
}
