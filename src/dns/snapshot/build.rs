//! Building a zone's snapshot from its stored records, and the next version after a change,
//! sharing every node the change did not touch.

use hickory_proto::rr::rdata::{self, SOA};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use imbl::{HashSet as SharedSet, OrdMap};

use super::super::Settings;
use super::super::convert::{absolute_name, rdata_bytes};
use super::node::{self, Key, Node};
use super::{APEX_TTL, DNAME, NS, ZoneSnapshot};
use crate::domain::record::{Record as StoredRecord, RecordType as Stored};
use crate::domain::zone::Zone;

impl ZoneSnapshot {
    /// A snapshot of `zone`'s current version (serial, SOA, settings) over these nodes.
    fn versioned(
        zone: &Zone,
        settings: &Settings,
        nodes: OrdMap<Key, Node>,
        cuts: SharedSet<String>,
        dnames: SharedSet<String>,
    ) -> ZoneSnapshot {
        let origin = absolute_name(&zone.domain).unwrap_or_else(Name::root);
        let soa = soa_record(zone, &origin, settings);
        ZoneSnapshot {
            id: zone.id.clone(),
            domain: zone.domain.clone(),
            serial: zone.serial,
            negative_soa: negative(&soa, zone),
            soa,
            allow_transfer: zone.allow_transfer.clone(),
            nodes,
            cuts,
            dnames,
            nsec3: Default::default(),
            keys: None,
            signing: None,
        }
    }

    /// The zone as `records` hands over its stored records, one at a time, so a large zone is
    /// never held twice.
    pub fn build<E>(
        zone: &Zone,
        settings: &Settings,
        records: impl FnOnce(&mut dyn FnMut(StoredRecord)) -> Result<(), E>,
    ) -> Result<ZoneSnapshot, E> {
        let mut snapshot = Self::versioned(zone, settings, OrdMap::new(), SharedSet::new(), SharedSet::new());
        snapshot.put_soa();
        let mut has_apex_ns = false;
        records(&mut |record| {
            has_apex_ns |= is_apex_ns(&record);
            snapshot.add(&record);
        })?;
        if !has_apex_ns {
            let apex = snapshot.nodes.entry(Key::new(&zone.domain)).or_default();
            for target in settings.ns_names.iter().filter_map(|ns| absolute_name(ns)) {
                apex.add(NS, APEX_TTL, &rdata_bytes(&RData::NS(rdata::NS(target))).unwrap_or_default());
            }
        }
        snapshot.find_cuts();
        if let Some(dnssec) = &zone.dnssec {
            let signing = snapshot.sign(dnssec, crate::domain::now());
            if let Err(error) = &signing {
                // The zone is served unsigned rather than not at all; the log says why.
                tracing::error!(zone = %zone.domain, %error, "the zone could not be signed");
            }
            snapshot.signing = Some(signing);
        }
        Ok(snapshot)
    }

    /// The next version of this zone after one change, sharing every untouched node; None when
    /// the change needs a rebuild from the store (the zone's own apex NS came or went, which
    /// decides whether the generated NS are served).
    pub fn apply(
        &self,
        zone: &Zone,
        removed: &[StoredRecord],
        added: &[StoredRecord],
        settings: &Settings,
    ) -> Option<ZoneSnapshot> {
        let changed = || removed.iter().chain(added);
        // A signed zone whose served version was not signed is signed whole.
        if changed().any(is_apex_ns) || (zone.dnssec.is_some() && self.keys.is_none()) {
            return None;
        }
        let mut next = Self::versioned(zone, settings, self.nodes.clone(), self.cuts.clone(), self.dnames.clone());
        next.put_soa();
        for record in removed {
            next.remove(record);
        }
        for record in added {
            next.add(record);
        }
        next.update_cuts(changed());
        next.nsec3 = self.nsec3.clone();
        if let (Some(dnssec), Some(keys)) = (&zone.dnssec, &self.keys) {
            let owner = |r: &StoredRecord| crate::domain::name::absolute(&r.data.name, &next.domain);
            let mut sets: Vec<(String, u16)> = changed().map(|r| (owner(r), r.data.rtype.0)).collect();
            sets.push((next.domain.clone(), u16::from(RecordType::SOA)));
            // A cut that came or went changes what is the zone's own at and below it.
            let moved_cuts = changed().map(owner).filter(|name| self.cuts.contains(name) != next.cuts.contains(name));
            let whole: Vec<String> = moved_cuts.flat_map(|cut| next.subtree(&cut)).collect();
            let (earliest, made) = next.resign(dnssec, keys.clone(), sets, whole, crate::domain::now());
            // The signatures kept from the version before may expire first.
            let until = earliest.min(self.signed_until().unwrap_or(i64::MAX));
            next.signing = Some(Ok((until, made)));
        }
        Some(next)
    }

    /// Keeps `cuts` and `dnames` right at the names whose NS or DNAME records changed (the
    /// apex's NS rebuild instead).
    fn update_cuts<'r>(&mut self, changed: impl Iterator<Item = &'r StoredRecord>) {
        for record in changed.filter(|r| matches!(r.data.rtype, Stored::NS | Stored::DNAME)) {
            let owner = crate::domain::name::absolute(&record.data.name, &self.domain);
            let (set, rtype) = match record.data.rtype {
                Stored::NS => (&mut self.cuts, NS),
                _ => (&mut self.dnames, DNAME),
            };
            let present = self.nodes.get(&node::Lookup(&owner)).is_some_and(|node| node.get(rtype).is_some());
            if present && (rtype == DNAME || owner != self.domain) {
                set.insert(owner);
            } else {
                set.remove(&owner);
            }
        }
    }

    /// The zone's SOA as the first record set of the apex.
    fn put_soa(&mut self) {
        let wire = rdata_bytes(&self.soa.data).unwrap_or_default();
        let apex = self.nodes.entry(Key::new(&self.domain)).or_default();
        apex.replace_first(u16::from(RecordType::SOA), self.soa.ttl, &wire);
    }

    /// Adds a stored record, and the empty non-terminals above it (they exist: NODATA, not
    /// NXDOMAIN, and they stop wildcard matching).
    fn add(&mut self, record: &StoredRecord) {
        let Some(wire) = crate::domain::record::wire(&record.data) else { return };
        let owner = crate::domain::name::absolute(&record.data.name, &self.domain);
        self.ensure_node(&owner);
        if let Some(node) = self.nodes.get_mut(&node::Lookup(&owner)) {
            node.add(record.data.rtype.0, record.data.ttl, &wire);
        }
    }

    /// Creates the node of `name` (in this zone) and any missing above it, each counted in
    /// its parent.
    fn ensure_node(&mut self, name: &str) {
        if self.nodes.contains_key(&node::Lookup(name)) {
            return;
        }
        self.nodes.insert(Key::new(name), Node::default());
        if let Some(parent) = self.parent(name) {
            self.ensure_node(parent);
            if let Some(node) = self.nodes.get_mut(&node::Lookup(parent)) {
                node.children += 1;
            }
        }
    }

    /// The name one label up, None at the apex.
    pub(super) fn parent<'n>(&self, name: &'n str) -> Option<&'n str> {
        let (_, parent) = name.split_once('.')?;
        (name != self.domain && parent.len() >= self.domain.len()).then_some(parent)
    }

    /// Removes a stored record; a name left empty goes too unless names below it remain.
    fn remove(&mut self, record: &StoredRecord) {
        let Some(wire) = crate::domain::record::wire(&record.data) else { return };
        let owner = crate::domain::name::absolute(&record.data.name, &self.domain);
        if let Some(node) = self.nodes.get_mut(&node::Lookup(&owner)) {
            node.remove(record.data.rtype.0, &wire);
        }
        self.prune(&owner);
    }

    /// `name` and every name below it: in canonical order they follow it, together.
    fn subtree(&self, name: &str) -> Vec<String> {
        use std::ops::Bound::{Included, Unbounded};
        let below = |key: &str| key == name || key.strip_suffix(name).is_some_and(|rest| rest.ends_with('.'));
        let from = self.nodes.range::<_, node::Lookup>((Included(node::Lookup(name)), Unbounded));
        from.map(|(key, _)| key.as_str()).take_while(|key| below(key)).map(String::from).collect()
    }

    /// Removes `name` if it holds nothing and has no names below it, and so up the tree.
    pub(super) fn prune(&mut self, mut name: &str) {
        while self.nodes.get(&node::Lookup(name)).is_some_and(|n| n.rrsets.is_empty() && n.children == 0) {
            let Some(parent) = self.parent(name) else { break };
            self.nodes.remove(&node::Lookup(name));
            if let Some(node) = self.nodes.get_mut(&node::Lookup(parent)) {
                node.children = node.children.saturating_sub(1);
            }
            name = parent;
        }
    }

    fn find_cuts(&mut self) {
        let owners = |rtype: u16, apex: bool| -> SharedSet<String> {
            let domain = &self.domain;
            let of_type = |(name, node): &(&Key, &Node)| (apex || name.as_str() != domain) && node.get(rtype).is_some();
            self.nodes.iter().filter(of_type).map(|(n, _)| n.as_str().to_string()).collect()
        };
        self.cuts = owners(NS, false);
        self.dnames = owners(DNAME, true);
    }
}

fn is_apex_ns(record: &StoredRecord) -> bool {
    record.data.name == "@" && record.data.rtype == crate::domain::record::RecordType::NS
}

/// The SOA as negative answers carry it: TTL = min(SOA TTL, MINIMUM) (RFC 2308 §3).
fn negative(soa: &Record, zone: &Zone) -> Record {
    let mut negative = soa.clone();
    negative.ttl = soa.ttl.min(zone.soa.minimum);
    negative
}

fn soa_record(zone: &Zone, origin: &Name, settings: &Settings) -> Record {
    let mname = settings.ns_names.first().and_then(|n| absolute_name(n)).unwrap_or_else(|| origin.clone());
    let rname = settings
        .hostmaster
        .as_deref()
        .and_then(|h| absolute_name(&h.replacen('@', ".", 1)))
        .or_else(|| absolute_name(&format!("hostmaster.{}", zone.domain)))
        .unwrap_or_else(|| origin.clone());
    let t = zone.soa;
    let soa = SOA::new(mname, rname, zone.serial, t.refresh as i32, t.retry as i32, t.expire as i32, t.minimum);
    Record::from_rdata(origin.clone(), APEX_TTL, RData::SOA(soa))
}
