//! The compact pieces a snapshot is made of: names kept once, in DNS canonical order
//! (RFC 4034 §6.1), and record sets as TTLs and RDATA in wire form. A 100k-record zone is a
//! few bytes past its RDATA per record, where a parsed hickory `Record` is 280.

use std::cmp::Ordering;

use equivalent::{Comparable, Equivalent};

/// An owner name: lowercase, without the trailing dot. Ordered label by label from the
/// right, as DNSSEC orders names, so the NSEC chain is the order of the map.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Key(Box<str>);

impl Key {
    pub fn new(name: &str) -> Key {
        Key(name.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Compares two names in canonical order: by labels from the top of the tree down.
pub fn canonical_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.rsplit('.'), b.rsplit('.'));
    loop {
        match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => match x.as_bytes().cmp(y.as_bytes()) {
                Ordering::Equal => {}
                unequal => return unequal,
            },
        }
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        canonical_cmp(&self.0, &other.0)
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A name looked up in the map without making a `Key` of it (no allocation per query).
pub struct Lookup<'a>(pub &'a str);

impl Equivalent<Key> for Lookup<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        *self.0 == *key.0
    }
}

impl Comparable<Key> for Lookup<'_> {
    fn compare(&self, key: &Key) -> Ordering {
        canonical_cmp(self.0, &key.0)
    }
}

/// The records of one type at one name: each as its TTL (4 bytes), RDATA length (2) and
/// RDATA, one after another in one allocation.
#[derive(Clone, PartialEq, Eq)]
pub struct RRset {
    pub rtype: u16,
    data: Box<[u8]>,
}

impl RRset {
    /// A set of these records (TTL, RDATA); empty data for none.
    pub fn new<'r>(rtype: u16, records: impl IntoIterator<Item = (u32, &'r [u8])>) -> RRset {
        let mut data = Vec::new();
        for (ttl, rdata) in records {
            push_record(&mut data, ttl, rdata);
        }
        RRset { rtype, data: data.into() }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn records(&self) -> impl Iterator<Item = (u32, &[u8])> {
        let mut rest = &self.data[..];
        std::iter::from_fn(move || {
            let (head, tail) = rest.split_at_checked(6)?;
            let ttl = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
            let len = usize::from(u16::from_be_bytes([head[4], head[5]]));
            let (rdata, tail) = tail.split_at_checked(len)?;
            rest = tail;
            Some((ttl, rdata))
        })
    }

    pub fn first(&self) -> Option<(u32, &[u8])> {
        self.records().next()
    }

    fn with(&self, ttl: u32, rdata: &[u8]) -> RRset {
        let mut data = Vec::with_capacity(self.data.len() + 6 + rdata.len());
        data.extend_from_slice(&self.data);
        push_record(&mut data, ttl, rdata);
        RRset { rtype: self.rtype, data: data.into() }
    }

    /// The set without one record of this RDATA; None when it was the last.
    fn without(&self, rdata: &[u8]) -> Option<RRset> {
        let mut data = Vec::with_capacity(self.data.len());
        let mut removed = false;
        for (ttl, each) in self.records() {
            if !removed && each == rdata {
                removed = true;
            } else {
                push_record(&mut data, ttl, each);
            }
        }
        (!data.is_empty()).then(|| RRset { rtype: self.rtype, data: data.into() })
    }
}

fn push_record(data: &mut Vec<u8>, ttl: u32, rdata: &[u8]) {
    let len = u16::try_from(rdata.len()).unwrap_or(u16::MAX);
    data.extend_from_slice(&ttl.to_be_bytes());
    data.extend_from_slice(&len.to_be_bytes());
    data.extend_from_slice(&rdata[..usize::from(len)]);
}

/// One name of a zone: its record sets, and how many names one label below it exist (an
/// empty node with none is removed).
#[derive(Default, Clone)]
pub struct Node {
    pub rrsets: Box<[RRset]>,
    pub children: u32,
}

impl Node {
    pub fn get(&self, rtype: u16) -> Option<&RRset> {
        self.rrsets.iter().find(|set| set.rtype == rtype)
    }

    pub fn add(&mut self, rtype: u16, ttl: u32, rdata: &[u8]) {
        let mut sets = self.rrsets.to_vec();
        match sets.iter_mut().find(|set| set.rtype == rtype) {
            Some(set) => *set = set.with(ttl, rdata),
            None => sets.push(RRset { rtype, data: Box::default() }.with(ttl, rdata)),
        }
        self.rrsets = sets.into();
    }

    pub fn remove(&mut self, rtype: u16, rdata: &[u8]) {
        let sets = self
            .rrsets
            .iter()
            .filter_map(|set| if set.rtype == rtype { set.without(rdata) } else { Some(set.clone()) });
        self.rrsets = sets.collect();
    }

    /// Puts `set` in place of the set of its type; an empty set removes it.
    pub fn put(&mut self, set: RRset) {
        let mut sets: Vec<RRset> = self.rrsets.iter().filter(|s| s.rtype != set.rtype).cloned().collect();
        if !set.is_empty() {
            sets.push(set);
        }
        self.rrsets = sets.into();
    }

    /// Puts `rdata` as the only record of its type, first in the node (the SOA).
    pub fn replace_first(&mut self, rtype: u16, ttl: u32, rdata: &[u8]) {
        let only = RRset { rtype, data: Box::default() }.with(ttl, rdata);
        let rest = self.rrsets.iter().filter(|set| set.rtype != rtype).cloned();
        self.rrsets = std::iter::once(only).chain(rest).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_in_canonical_order() {
        // RFC 4034 §6.1's example, lowercase.
        let mut names = [
            "z.example",
            "a.example",
            "yljkjljk.a.example",
            "example",
            "*.z.example",
            "zabc.a.example",
            "\\200.z.example",
            "z.a.example",
        ]
        .map(Key::new);
        names.sort();
        let sorted: Vec<&str> = names.iter().map(Key::as_str).collect();
        assert_eq!(
            sorted,
            [
                "example",
                "a.example",
                "yljkjljk.a.example",
                "z.a.example",
                "zabc.a.example",
                "z.example",
                "*.z.example",
                "\\200.z.example"
            ]
        );
    }

    #[test]
    fn record_sets_keep_each_record_once() {
        let mut node = Node::default();
        node.add(1, 300, &[192, 0, 2, 1]);
        node.add(1, 60, &[192, 0, 2, 2]);
        node.remove(1, &[192, 0, 2, 1]);
        let set = node.get(1).expect("one left");
        assert_eq!(set.records().collect::<Vec<_>>(), [(60, &[192, 0, 2, 2][..])]);
        node.remove(1, &[192, 0, 2, 2]);
        assert!(node.rrsets.is_empty());
    }
}
