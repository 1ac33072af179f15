//! NSEC3 (RFC 5155) with RFC 9276's parameters: SHA-1, no extra iterations, no salt, no
//! opt-out. Every name of the zone, empty non-terminals and delegations included, has an
//! NSEC3 at its hashed name; the chain is kept apart from the names, ordered by hash.

use hickory_proto::rr::Name;
use imbl::OrdMap;

use super::node::{Node, RRset};
use super::secure::Section;
use super::sign::{DS, RRSIG, Standing};
use super::{Lookup, ZoneSnapshot};
use crate::domain::dnssec::{base32hex, nsec3_hash};
use crate::domain::rdata;

pub const NSEC3: u16 = 50;
pub const NSEC3PARAM: u16 = 51;
/// NSEC3PARAM's RDATA: SHA-1, no flags, no extra iterations, no salt (RFC 9276 §3.1).
pub const PARAM: [u8; 5] = [1, 0, 0, 0, 0];

/// One link of the chain: the name it stands for, and its NSEC3 and RRSIG sets.
#[derive(Clone)]
pub struct Link {
    name: Box<str>,
    pub node: Node,
}

pub type Chain = OrdMap<[u8; 20], Link>;

impl ZoneSnapshot {
    /// Whether `name` has an NSEC3: it exists (with data, or as an empty non-terminal) and
    /// is the zone's own (delegations too).
    fn in_nsec3_chain(&self, name: &str) -> bool {
        self.node(name).is_some() && self.standing(name) != Standing::Occluded
    }

    /// The chain of every name.
    pub(super) fn put_nsec3_chain(&mut self) {
        let names: Vec<String> =
            self.nodes.keys().map(|k| k.as_str().to_string()).filter(|name| self.in_nsec3_chain(name)).collect();
        self.nsec3 = Chain::new();
        for name in names {
            self.nsec3.insert(nsec3_hash(&name), Link { name: name.into(), node: Node::default() });
        }
        let hashes: Vec<[u8; 20]> = self.nsec3.keys().copied().collect();
        for hash in hashes {
            self.write_nsec3(&hash);
        }
    }

    /// Brings the links of `names` in line with the zone after a change; returns the hashes
    /// whose NSEC3 changed (a link that came or went moves its predecessor's), to be signed
    /// again.
    pub(super) fn sync_nsec3(&mut self, names: &[String]) -> Vec<[u8; 20]> {
        let mut moved = Vec::new();
        for name in names {
            let hash = nsec3_hash(name);
            match (self.in_nsec3_chain(name), self.nsec3.contains_key(&hash)) {
                (true, true) => moved.push(hash),
                (true, false) => {
                    self.nsec3.insert(hash, Link { name: name.as_str().into(), node: Node::default() });
                    moved.push(hash);
                    moved.extend(self.nsec3_before(&hash).map(|(h, _)| *h));
                }
                (false, true) => {
                    self.nsec3.remove(&hash);
                    moved.extend(self.nsec3_before(&hash).map(|(h, _)| *h));
                }
                (false, false) => {}
            }
        }
        moved.sort_unstable();
        moved.dedup();
        moved.retain(|hash| self.write_nsec3(hash));
        moved
    }

    /// The NSEC3 of one link: the next hash (wrapping) and the types at its name; whether
    /// it changed.
    fn write_nsec3(&mut self, hash: &[u8; 20]) -> bool {
        use std::ops::Bound::{Excluded, Unbounded};
        let after = self.nsec3.range::<_, [u8; 20]>((Excluded(hash), Unbounded)).next();
        let next = after.or_else(|| self.nsec3.iter().next());
        let Some(next) = next.map(|(h, _)| *h) else { return false };
        let Some(link) = self.nsec3.get(hash) else { return false };
        let types = self.types_for_nsec3(&link.name);
        let ttl = self.negative_soa.ttl;
        let mut data = Vec::with_capacity(26 + 32);
        data.extend_from_slice(&[1, 0, 0, 0, 0, 20]);
        data.extend_from_slice(&next);
        data.extend(rdata::type_bitmap(&types));
        let nsec3 = RRset::new(NSEC3, [(ttl, data.as_slice())]);
        let Some(link) = self.nsec3.get_mut(hash) else { return false };
        let changed = link.node.get(NSEC3) != Some(&nsec3);
        if changed {
            link.node.put(nsec3);
        }
        changed
    }

    /// The types an NSEC3 lists for `name`: its sets, and RRSIG where any is signed.
    fn types_for_nsec3(&self, name: &str) -> Vec<u16> {
        let Some(node) = self.node(name) else { return Vec::new() };
        let mut types: Vec<u16> = node.rrsets.iter().map(|s| s.rtype).filter(|t| *t != RRSIG).collect();
        let signed = match self.standing(name) {
            Standing::Authoritative => !types.is_empty(),
            Standing::Delegation => types.contains(&DS),
            Standing::Occluded => false,
        };
        if signed {
            types.push(RRSIG);
        }
        types
    }

    /// The owner name of a link.
    pub(super) fn nsec3_owner(&self, hash: &[u8; 20]) -> String {
        format!("{}.{}", base32hex(hash), self.domain)
    }

    /// The link before `hash` in the chain, wrapping to the last.
    fn nsec3_before(&self, hash: &[u8; 20]) -> Option<(&[u8; 20], &Link)> {
        let before = self.nsec3.range::<_, [u8; 20]>(..hash).next_back();
        before.or_else(|| self.nsec3.iter().next_back()).filter(|(h, _)| *h != hash)
    }

    /// The NSEC3 that matches `name`, with its signature.
    pub(super) fn push_nsec3_match(&self, name: &str, out: &mut Lookup) {
        let hash = nsec3_hash(name);
        if let Some(link) = self.nsec3.get(&hash) {
            self.push_link(&hash, link, out);
        }
    }

    /// The NSEC3 whose span covers the hash of `name` (a name that does not exist).
    pub(super) fn push_nsec3_cover(&self, name: &str, out: &mut Lookup) {
        let hash = nsec3_hash(name);
        let covering = self.nsec3.range::<_, [u8; 20]>(..=&hash).next_back();
        let covering = covering.or_else(|| self.nsec3.iter().next_back());
        if let Some((hash, link)) = covering {
            self.push_link(hash, link, out);
        }
    }

    fn push_link(&self, hash: &[u8; 20], link: &Link, out: &mut Lookup) {
        let Some(owner) = Name::from_ascii(format!("{}.", self.nsec3_owner(hash))).ok() else { return };
        let held = |r: &hickory_proto::rr::Record| r.name == owner;
        if out.authority.iter().any(held) {
            return;
        }
        if let Some(set) = link.node.get(NSEC3) {
            self.push_set(Section::Authority, &link.node, set, &owner, out);
        }
    }
}
