//! What a signed zone adds to an answer when the client sets DO (RFC 4035 §3.1): the
//! signatures of every record set it carries, and the NSEC records that prove a name or a
//! type does not exist.

use hickory_proto::rr::{Name, Record};

use super::node::{self, Node, RRset};
use super::sign::{NSEC, RRSIG};
use super::{Lookup, ZoneSnapshot, owner_of, records_of};
use crate::dns::convert::from_wire;

#[derive(Clone, Copy)]
pub(super) enum Section {
    Answer,
    Authority,
}

impl Lookup {
    fn section(&mut self, section: Section) -> &mut Vec<Record> {
        match section {
            Section::Answer => &mut self.answers,
            Section::Authority => &mut self.authority,
        }
    }
}

impl ZoneSnapshot {
    /// The records of `set` under `owner`, and when the answer is signed, their signatures.
    pub(super) fn push_set(&self, section: Section, node: &Node, set: &RRset, owner: &Name, out: &mut Lookup) {
        let dnssec = out.dnssec;
        let records = out.section(section);
        records.extend(records_of(set, owner));
        if dnssec {
            let ttl = set.first().map_or(0, |(ttl, _)| ttl);
            records.extend(signatures(node, set.rtype, owner, ttl));
        }
    }

    /// The SOA of a negative answer, signed when the answer is.
    pub(super) fn push_negative_soa(&self, out: &mut Lookup) {
        out.authority.push(self.negative_soa.clone());
        if out.dnssec
            && let Some(apex) = self.node(&self.domain)
        {
            let soa = u16::from(hickory_proto::rr::RecordType::SOA);
            out.authority.extend(signatures(apex, soa, &self.negative_soa.name, self.negative_soa.ttl));
        }
    }

    /// The NSEC of `name`, with its signature, unless the answer has it already.
    fn push_nsec(&self, name: &str, node: &Node, out: &mut Lookup) {
        let (Some(nsec), Some(owner)) = (node.get(NSEC), owner_of(name)) else { return };
        let held = |r: &Record| r.name == owner && u16::from(r.record_type()) == NSEC;
        if !out.authority.iter().any(held) {
            self.push_set(Section::Authority, node, nsec, &owner, out);
        }
    }

    /// The NSEC whose span covers `name`: the last one before it in canonical order.
    fn push_covering_nsec(&self, name: &str, out: &mut Lookup) {
        let before = self.nodes.range(..node::Lookup(name)).rev().find(|(_, n)| n.get(NSEC).is_some());
        let last = || self.nodes.iter().rev().find(|(_, n)| n.get(NSEC).is_some());
        if let Some((key, node)) = before.or_else(last) {
            self.push_nsec(key.as_str(), node, out);
        }
    }

    /// NXDOMAIN's proof (RFC 4035 §3.1.3.2, RFC 5155 §7.2.2): no such name, and no
    /// wildcard at the closest encloser that could have made one.
    pub(super) fn deny_name(&self, qname: &str, out: &mut Lookup) {
        let encloser = self.closest_encloser(qname);
        if self.nsec3.is_empty() {
            self.push_covering_nsec(qname, out);
        } else if let Some(encloser) = encloser {
            self.push_nsec3_match(encloser, out);
            self.push_nsec3_cover(next_closer(qname, encloser), out);
        }
        if let Some(encloser) = encloser {
            self.deny_covered(&format!("*.{encloser}"), out);
        }
    }

    /// NODATA's proof: the NSEC or NSEC3 at the name (or the wildcard that matched) lists no
    /// such type. An empty non-terminal has no NSEC, so the NSEC that covers it shows that.
    pub(super) fn deny_type(&self, name: &str, node: &Node, out: &mut Lookup) {
        if !self.nsec3.is_empty() {
            self.push_nsec3_match(name, out);
        } else if node.get(NSEC).is_some() {
            self.push_nsec(name, node, out);
        } else {
            self.push_covering_nsec(name, out);
        }
    }

    /// A wildcard's answer proves the name asked does not exist (RFC 4035 §3.1.3.3, RFC 5155
    /// §7.2.6); its NODATA, with NSEC3, also where the closest encloser is (§7.2.5).
    pub(super) fn prove_expansion(&self, qname: &str, nodata: bool, out: &mut Lookup) {
        if self.nsec3.is_empty() {
            return self.push_covering_nsec(qname, out);
        }
        if let Some(encloser) = self.closest_encloser(qname) {
            if nodata {
                self.push_nsec3_match(encloser, out);
            }
            self.push_nsec3_cover(next_closer(qname, encloser), out);
        }
    }

    /// A referral without DS: the NSEC or NSEC3 of the cut lists no DS (RFC 4035 §3.1.4).
    pub(super) fn deny_ds(&self, cut: &str, node: &Node, out: &mut Lookup) {
        if self.nsec3.is_empty() {
            self.push_nsec(cut, node, out);
        } else {
            self.push_nsec3_match(cut, out);
        }
    }

    /// The record that shows `name` does not exist: the NSEC or NSEC3 covering it.
    fn deny_covered(&self, name: &str, out: &mut Lookup) {
        if self.nsec3.is_empty() { self.push_covering_nsec(name, out) } else { self.push_nsec3_cover(name, out) }
    }
}

/// The name one label longer than the closest encloser on the way to `qname` (RFC 5155 §1.3).
fn next_closer<'n>(qname: &'n str, encloser: &str) -> &'n str {
    let prefix = qname.strip_suffix(encloser).and_then(|p| p.strip_suffix('.')).unwrap_or(qname);
    let start = prefix.rfind('.').map_or(0, |i| i + 1);
    &qname[start..]
}

/// The RRSIGs at `node` that cover `rtype`, under `owner` with the set's TTL.
fn signatures<'n>(node: &'n Node, rtype: u16, owner: &'n Name, ttl: u32) -> impl Iterator<Item = Record> + 'n {
    let sigs = node.get(RRSIG).into_iter().flat_map(RRset::records);
    sigs.filter(move |(_, rdata)| rdata.get(..2) == Some(&rtype.to_be_bytes()[..]))
        .filter_map(move |(_, rdata)| from_wire(owner.clone(), RRSIG, ttl, rdata))
}
