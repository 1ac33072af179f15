//! Immutable per-zone snapshots and the authoritative lookup over them (RFC 1034 §4.3.2,
//! RFC 2308, RFC 4592). A snapshot is built after each commit and swapped in whole, so the
//! query path reads memory only and never waits on a writer.

use std::borrow::Cow;
use std::sync::Arc;

use imbl::{HashMap as SharedMap, HashSet as SharedSet};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::CNAME;
use hickory_proto::rr::{Name, RData, Record, RecordType};

/// How far an in-zone CNAME chain is followed.
const MAX_CHAIN: usize = 8;
const APEX_TTL: u32 = 3600;

#[derive(Default, Clone)]
struct Node {
    rrsets: Vec<(RecordType, Vec<Record>)>,
    /// Nodes one label below this one: an empty node with none is removed.
    children: u32,
}

impl Node {
    fn get(&self, rtype: RecordType) -> Option<&[Record]> {
        self.rrsets.iter().find(|(t, _)| *t == rtype).map(|(_, r)| r.as_slice())
    }
}

pub struct ZoneSnapshot {
    pub id: String,
    pub domain: String,
    pub serial: u32,
    pub soa: Record,
    /// Networks that may transfer this zone besides the server-wide ones.
    pub allow_transfer: Vec<ipnet::IpNet>,
    /// The SOA as negative answers carry it: TTL = min(SOA TTL, MINIMUM) (RFC 2308 §3).
    negative_soa: Record,
    /// Every owner name and empty non-terminal, lowercase, without the trailing dot. A
    /// persistent map: the next version of a zone shares all unchanged nodes with this one.
    /// Nodes sit behind `Arc`s because the map copies a whole chunk of entries to change
    /// one: copying pointers, not record sets, keeps a change cheap and the map small.
    nodes: SharedMap<String, Arc<Node>>,
    /// Names below the apex that carry NS records: zone cuts.
    cuts: SharedSet<String>,
    /// Names that carry a DNAME: the names below them are rewritten (RFC 6672).
    dnames: SharedSet<String>,
}

/// What a query gets: the sections of the answer and its flags. Records are borrowed from the
/// snapshot unless the answer had to change them (the owner name of a wildcard or of a
/// differently-cased question).
#[derive(Default)]
pub struct Lookup<'a> {
    pub rcode: ResponseCode,
    pub authoritative: bool,
    pub answers: Vec<Cow<'a, Record>>,
    pub authority: Vec<Cow<'a, Record>>,
    pub additional: Vec<Cow<'a, Record>>,
}

mod build;

impl ZoneSnapshot {
    /// Answers `qname` (lowercase, no trailing dot; inside this zone) for `qtype`. `owner` is
    /// the question's name as asked, so answers echo its case.
    pub fn lookup<'a>(&'a self, qname: &str, owner: &Name, qtype: RecordType) -> Lookup<'a> {
        if let Some(cut) = self.cut_above(qname, qtype) {
            return self.referral(cut);
        }
        let mut out = Lookup { authoritative: true, ..Lookup::default() };
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
    fn substitute<'a>(
        &'a self,
        dname_owner: &str,
        qname: &str,
        owner: &Name,
        qtype: RecordType,
        out: &mut Lookup<'a>,
        depth: usize,
    ) {
        let Some(dname) = self.nodes.get(dname_owner).and_then(|n| n.get(RecordType::DNAME)).and_then(<[_]>::first)
        else {
            return;
        };
        out.answers.push(Cow::Borrowed(dname));
        let RData::Unknown { rdata, .. } = &dname.data else { return };
        let target =
            crate::domain::rdata::print(crate::domain::record::RecordType::DNAME, rdata.anything.as_slice(), true);
        let prefix = &qname[..qname.len() - dname_owner.len()];
        let Some(new) =
            target.ok().and_then(|t| Name::from_ascii(format!("{prefix}{}", t.trim_start_matches('.'))).ok())
        else {
            out.rcode = ResponseCode::YXDomain;
            return;
        };
        out.answers.push(Cow::Owned(Record::from_rdata(owner.clone(), dname.ttl, RData::CNAME(CNAME(new.clone())))));
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

    fn referral(&self, cut: &str) -> Lookup<'_> {
        let ns = self.nodes.get(cut).and_then(|n| n.get(RecordType::NS)).unwrap_or_default();
        Lookup {
            rcode: ResponseCode::NoError,
            authoritative: false,
            answers: Vec::new(),
            additional: self.glue(ns),
            authority: ns.iter().map(Cow::Borrowed).collect(),
        }
    }

    /// Addresses of in-zone targets (NS glue; MX, SRV, SVCB and HTTPS targets) for the
    /// additional section.
    fn glue(&self, records: &[Record]) -> Vec<Cow<'_, Record>> {
        let mut out = Vec::new();
        for record in records {
            let key = match &record.data {
                RData::NS(ns) => ns.0.to_ascii(),
                RData::MX(mx) => mx.exchange.to_ascii(),
                RData::SRV(srv) => srv.target.to_ascii(),
                RData::Unknown { code, rdata } if matches!(*code, RecordType::SVCB | RecordType::HTTPS) => {
                    let rtype = crate::domain::record::RecordType(u16::from(*code));
                    let Some(target) =
                        crate::domain::rdata::targets(rtype, rdata.anything.as_slice()).into_iter().next()
                    else {
                        continue;
                    };
                    target
                }
                _ => continue,
            };
            let key = key.trim_end_matches('.').to_ascii_lowercase();
            if let Some(node) = self.nodes.get(&key) {
                for rtype in [RecordType::A, RecordType::AAAA] {
                    out.extend(node.get(rtype).unwrap_or_default().iter().map(Cow::Borrowed));
                }
            }
        }
        out
    }

    fn answer<'a>(&'a self, qname: &str, owner: &Name, qtype: RecordType, out: &mut Lookup<'a>, depth: usize) {
        if let Some(dname_owner) = self.dname_above(qname) {
            return self.substitute(dname_owner, qname, owner, qtype, out, depth);
        }
        let node = match self.nodes.get(qname).map(AsRef::as_ref).or_else(|| self.wildcard_for(qname)) {
            Some(node) => node,
            None => {
                out.rcode = ResponseCode::NXDomain;
                out.authority.push(Cow::Borrowed(&self.negative_soa));
                return;
            }
        };
        if qtype != RecordType::CNAME
            && qtype != RecordType::ANY
            && let Some(cname) = node.get(RecordType::CNAME)
        {
            out.answers.extend(renamed(cname, owner));
            if let Some(RData::CNAME(target)) = cname.first().map(|r| &r.data) {
                self.follow(&target.0, qtype, out, depth);
            }
            return;
        }
        let found = if qtype == RecordType::ANY {
            // RFC 8482: one RRset is a complete answer to ANY.
            node.rrsets.first().map(|(_, set)| set.as_slice())
        } else {
            node.get(qtype)
        };
        match found {
            Some(set) => {
                out.answers.extend(renamed(set, owner));
                out.additional.extend(self.glue(set));
            }
            None => out.authority.push(Cow::Borrowed(&self.negative_soa)),
        }
    }

    /// Continues an answer at a CNAME's target while it stays in this zone's authority.
    fn follow<'a>(&'a self, target: &Name, qtype: RecordType, out: &mut Lookup<'a>, depth: usize) {
        let key = target.to_ascii().trim_end_matches('.').to_ascii_lowercase();
        let in_zone = key == self.domain || key.strip_suffix(&self.domain).is_some_and(|r| r.ends_with('.'));
        if depth + 1 >= MAX_CHAIN || !in_zone {
            return;
        }
        // Into a delegation: the referral joins the answer, as Knot gives it.
        if let Some(cut) = self.cut_above(&key, qtype) {
            let referral = self.referral(cut);
            out.authority.extend(referral.authority);
            out.additional.extend(referral.additional);
            return;
        }
        self.answer(&key, target, qtype, out, depth + 1);
    }

    /// RFC 4592: the wildcard at the closest encloser, if the name does not exist.
    fn wildcard_for(&self, qname: &str) -> Option<&Node> {
        let mut name = qname;
        while let Some((_, parent)) = name.split_once('.') {
            if parent.len() < self.domain.len() {
                return None;
            }
            if self.nodes.contains_key(parent) {
                return self.nodes.get(&format!("*.{parent}")).map(AsRef::as_ref);
            }
            name = parent;
        }
        None
    }

    /// The apex NS targets being served, without the trailing dot.
    pub fn apex_ns(&self) -> Vec<String> {
        let set = self.nodes.get(&self.domain).and_then(|n| n.get(RecordType::NS)).unwrap_or_default();
        set.iter()
            .filter_map(|r| match &r.data {
                RData::NS(ns) => Some(ns.0.to_ascii().trim_end_matches('.').to_string()),
                _ => None,
            })
            .collect()
    }

    /// Every record of the zone, SOA first (AXFR adds the closing SOA).
    pub fn all_records(&self) -> Vec<Record> {
        let mut out = vec![self.soa.clone()];
        let mut names: Vec<&String> = self.nodes.keys().collect();
        names.sort_by(|a, b| a.len().cmp(&b.len()).then(a.cmp(b)));
        for name in names {
            let Some(node) = self.nodes.get(name) else { continue };
            for (rtype, set) in &node.rrsets {
                if *rtype != RecordType::SOA {
                    out.extend(set.iter().cloned());
                }
            }
        }
        out
    }
}

/// The records with the question's spelling of the owner name: borrowed when it is already
/// theirs, copied and renamed otherwise (wildcards, other letter case).
fn renamed<'a, 'o>(set: &'a [Record], owner: &'o Name) -> impl Iterator<Item = Cow<'a, Record>> + 'o
where
    'a: 'o,
{
    set.iter().map(move |r| {
        if r.name.eq_case(owner) {
            Cow::Borrowed(r)
        } else {
            let mut r = r.clone();
            r.name = owner.clone();
            Cow::Owned(r)
        }
    })
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
