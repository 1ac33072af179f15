//! Online signing of a snapshot (RFC 4033–4035), as Knot signs a zone: DNSKEY, CDS and
//! CDNSKEY at the apex, the NSEC chain in canonical order (or NSEC3, `nsec3`), and an RRSIG
//! over every authoritative record set by the keys whose role signs it. Names below a zone
//! cut are not signed; at a cut only DS and NSEC are (the NS there belong to the child). A
//! whole version is signed when a zone is published; a change signs only what it moved.

use std::sync::Arc;

use rand::Rng;

use super::ZoneSnapshot;
use super::node::{self, Key, RRset};
use super::nsec3::{NSEC3, NSEC3PARAM, PARAM};
use crate::domain::dnssec::{Denial, Dnssec, Phase, Signer};
use crate::domain::name::wire_lowercase;
use crate::domain::rdata::{self, RecordType as Type};

pub const DS: u16 = 43;
pub const RRSIG: u16 = 46;
pub const NSEC: u16 = 47;
pub const DNSKEY: u16 = 48;
const CDS: u16 = 59;
const CDNSKEY: u16 = 60;
const KEY_TTL: u32 = 3600;
/// Signatures are valid from an hour back (clocks drift) for two weeks.
const BACKDATE: i64 = 3600;
const VALIDITY: i64 = 14 * 86_400;
/// Expiry times are spread over up to a day, so signatures do not all end at once.
const JITTER: i64 = 86_400;

/// One key, ready to sign, and what it signs.
struct Signing {
    signer: Signer,
    tag: u16,
    algorithm: u8,
    /// The apex key sets (DNSKEY, CDS, CDNSKEY).
    keys: bool,
    /// Every other set.
    zone: bool,
}

/// How a name stands in the signed zone.
#[derive(PartialEq, Eq)]
pub enum Standing {
    /// The zone's own data: every set signed.
    Authoritative,
    /// A zone cut: the NS (and glue) belong to the child; DS and NSEC are ours.
    Delegation,
    /// Below a zone cut: not ours at all.
    Occluded,
}

/// The keys of a zone, ready to sign, and what every signature shares.
struct Signers {
    keys: Arc<Keys>,
    /// The zone's name in wire form: every RRSIG's signer.
    signer_name: Vec<u8>,
    now: i64,
    rng: rand::rngs::ThreadRng,
    earliest: i64,
    made: u64,
}

/// A zone's keys read for signing, kept with its snapshot: reading a key (PKCS#8, and the
/// public point checked) costs more than a signature, and a change needs only a few of those.
pub struct Keys(Vec<Signing>);

impl Keys {
    fn read(dnssec: &Dnssec) -> Result<Keys, String> {
        let keys = dnssec
            .keys
            .iter()
            .filter(|k| k.signs_keys() || k.signs_zone())
            .map(|k| {
                let (keys, zone) = (k.signs_keys(), k.signs_zone());
                Ok(Signing { signer: k.signer()?, tag: k.tag(), algorithm: k.algorithm.number(), keys, zone })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Keys(keys))
    }
}

impl Signers {
    fn new(keys: Arc<Keys>, domain: &str, now: i64) -> Signers {
        let signer_name = wire_lowercase(domain);
        Signers { keys, signer_name, now, rng: rand::rng(), earliest: i64::MAX, made: 0 }
    }

    /// The RRSIGs of one set, by every key.
    fn sign_set(&mut self, owner: &str, set: &RRset) -> Vec<Vec<u8>> {
        let expires = self.now + VALIDITY - self.rng.random_range(0..JITTER);
        self.earliest = self.earliest.min(expires);
        let validity = (self.now - BACKDATE, expires);
        let key_set = matches!(set.rtype, DNSKEY | CDS | CDNSKEY);
        let signs = |key: &&Signing| if key_set { key.keys } else { key.zone };
        let signatures: Vec<Vec<u8>> = self
            .keys
            .0
            .iter()
            .filter(signs)
            .filter_map(|key| rrsig(owner, set, key, &self.signer_name, validity))
            .collect();
        self.made += signatures.len() as u64;
        signatures
    }
}

impl ZoneSnapshot {
    /// Signs the whole snapshot with the zone's keys at time `now` (Unix seconds); returns the
    /// earliest signature expiry and how many signatures it made.
    pub(super) fn sign(&mut self, dnssec: &Dnssec, now: i64) -> Result<(i64, u64), String> {
        let keys = Arc::new(Keys::read(dnssec)?);
        self.keys = Some(keys.clone());
        let mut signers = Signers::new(keys, &self.domain, now);
        self.put_key_sets(dnssec);
        match dnssec.denial {
            Denial::Nsec => self.put_nsec_chain(),
            Denial::Nsec3 => self.put_nsec3_chain(),
        }
        let names: Vec<Key> = self.nodes.keys().cloned().collect();
        for name in names {
            self.sign_node(name.as_str(), &mut signers);
        }
        let links: Vec<[u8; 20]> = self.nsec3.keys().copied().collect();
        self.sign_links(&links, &mut signers);
        Ok((signers.earliest, signers.made))
    }

    /// Signs the NSEC3 records of these links.
    fn sign_links(&mut self, hashes: &[[u8; 20]], signers: &mut Signers) {
        for hash in hashes {
            let owner = self.nsec3_owner(hash);
            let Some(set) = self.nsec3.get(hash).and_then(|link| link.node.get(NSEC3)).cloned() else { continue };
            let signatures = signers.sign_set(&owner, &set);
            if let Some(link) = self.nsec3.get_mut(hash) {
                link.node.put(RRset::new(RRSIG, signatures.iter().map(|s| (original_ttl(s), s.as_slice()))));
            }
        }
    }

    /// Signs again after a change of records: `changed` holds each changed set's owner and
    /// type (the apex's SOA among them), `whole` the names to sign again entirely (at and
    /// below a cut that came or went). Only those are signed again, with the NSEC or NSEC3
    /// records the change moved (a name's own, and its predecessor's when the name came or
    /// went), as Knot signs incrementally. `keys` are the version before's (the key set does
    /// not change with records).
    pub(super) fn resign(
        &mut self,
        dnssec: &Dnssec,
        keys: Arc<Keys>,
        changed: Vec<(String, u16)>,
        whole: Vec<String>,
        now: i64,
    ) -> (i64, u64) {
        self.keys = Some(keys.clone());
        let mut signers = Signers::new(keys, &self.domain, now);
        let mut work: std::collections::BTreeMap<String, Vec<u16>> = std::collections::BTreeMap::new();
        for (name, rtype) in changed {
            work.entry(name).or_default().push(rtype);
        }
        for name in &whole {
            let types = self.node(name).map(|n| n.rrsets.iter().map(|s| s.rtype).collect::<Vec<_>>());
            work.entry(name.clone()).or_default().extend(types.unwrap_or_default());
        }
        let mut names: Vec<String> = work.keys().cloned().collect();
        names.sort_by(|a, b| node::canonical_cmp(a, b));
        match dnssec.denial {
            Denial::Nsec => {
                for name in self.mend_nsec_chain(&names) {
                    work.entry(name).or_default().push(NSEC);
                }
            }
            Denial::Nsec3 => {
                let links = self.mend_nsec3_chain(&names);
                self.sign_links(&links, &mut signers);
            }
        }
        for (name, types) in &work {
            self.sign_sets(name, types, &mut signers);
        }
        (signers.earliest, signers.made)
    }

    /// The NSEC chain around names that came, went or changed types; returns the names
    /// whose NSEC changed (theirs, and their predecessors' where a name came or went).
    fn mend_nsec_chain(&mut self, touched: &[String]) -> Vec<String> {
        let had_nsec = |snapshot: &Self, name: &str| snapshot.node(name).is_some_and(|n| n.get(NSEC).is_some());
        let before: Vec<bool> = touched.iter().map(|name| had_nsec(self, name)).collect();
        for name in touched {
            if !self.belongs_in_chain(name) {
                self.leave_chain(name);
            }
        }
        let ttl = self.negative_soa.ttl;
        let mut resigned: Vec<String> = Vec::new();
        for (name, was_in) in touched.iter().zip(before) {
            let is_in = self.belongs_in_chain(name);
            if is_in && self.put_nsec(name, ttl) {
                resigned.push(name.clone());
            }
            if is_in != was_in
                && let Some(before) = self.chain_neighbour_before(name)
                && self.put_nsec(&before, ttl)
            {
                resigned.push(before);
            }
        }
        resigned
    }

    /// The NSEC3 chain around changed names and every name above them (empty non-terminals
    /// come and go with the names below them); returns the links to sign again.
    fn mend_nsec3_chain(&mut self, touched: &[String]) -> Vec<[u8; 20]> {
        for name in touched {
            if self.node(name).is_some_and(|n| n.rrsets.iter().all(|s| s.rtype == RRSIG)) {
                self.leave_chain(name);
            }
        }
        let mut names: Vec<String> = Vec::new();
        for name in touched {
            let mut at = Some(name.as_str());
            while let Some(current) = at {
                names.push(current.to_string());
                at = self.parent(current);
            }
        }
        names.sort();
        names.dedup();
        self.sync_nsec3(&names)
    }

    /// Signs again the sets of these types at `name`, keeping the other sets' signatures.
    fn sign_sets(&mut self, name: &str, types: &[u16], signers: &mut Signers) {
        let standing = self.standing(name);
        let Some(node) = self.nodes.get(&node::Lookup(name)) else { return };
        let covered = |rrsig: &[u8]| rrsig.get(..2).map_or(0, |t| u16::from_be_bytes([t[0], t[1]]));
        let present = |rtype: u16| node.get(rtype).is_some() && signs(&standing, rtype);
        let kept = node.get(RRSIG).into_iter().flat_map(RRset::records).map(|(_, r)| r.to_vec());
        let mut signatures: Vec<Vec<u8>> =
            kept.filter(|r| !types.contains(&covered(r)) && present(covered(r))).collect();
        for set in node.rrsets.iter().filter(|set| types.contains(&set.rtype) && signs(&standing, set.rtype)) {
            signatures.extend(signers.sign_set(name, set));
        }
        if let Some(node) = self.nodes.get_mut(&node::Lookup(name)) {
            node.put(RRset::new(RRSIG, signatures.iter().map(|s| (original_ttl(s), s.as_slice()))));
        }
    }

    /// Replaces the signatures at `name` with new ones over each set it signs.
    fn sign_node(&mut self, name: &str, signers: &mut Signers) {
        let types: Vec<u16> = self.node(name).map(|n| n.rrsets.iter().map(|s| s.rtype).collect()).unwrap_or_default();
        self.sign_sets(name, &types, signers);
    }

    /// DNSKEY, and CDS/CDNSKEY for the parent (RFC 7344): the keys while signed, the "delete"
    /// records (RFC 8078 §4) while going insecure.
    fn put_key_sets(&mut self, dnssec: &Dnssec) {
        let dnskeys: Vec<Vec<u8>> = dnssec.keys.iter().map(|k| k.dnskey_rdata()).collect();
        let (cds, cdnskey) = match dnssec.phase {
            Phase::Signed => {
                let for_parent = dnssec.keys.iter().filter(|k| k.wants_ds());
                (
                    for_parent.clone().map(|k| k.ds_rdata(&self.domain)).collect(),
                    for_parent.map(|k| k.dnskey_rdata()).collect(),
                )
            }
            Phase::Unsigning => (vec![vec![0, 0, 0, 0, 0]], vec![vec![0, 0, 3, 0, 0]]),
        };
        // NSEC3PARAM tells secondaries how the chain is hashed; its TTL is 0 (RFC 5155 §4).
        let param = if dnssec.denial == Denial::Nsec3 { vec![PARAM.to_vec()] } else { Vec::new() };
        let apex = self.nodes.entry(Key::new(&self.domain)).or_default();
        for (rtype, set) in [(DNSKEY, dnskeys), (CDS, cds), (CDNSKEY, cdnskey)] {
            apex.put(RRset::new(rtype, set.iter().map(|r| (KEY_TTL, r.as_slice()))));
        }
        apex.put(RRset::new(NSEC3PARAM, param.iter().map(|r| (0, r.as_slice()))));
    }

    /// One NSEC per name that holds data and is ours (delegations included), naming the next
    /// such name and the types here, the last pointing back at the apex.
    fn put_nsec_chain(&mut self) {
        let owners: Vec<Key> = self.nodes.keys().filter(|name| self.belongs_in_chain(name.as_str())).cloned().collect();
        let ttl = self.negative_soa.ttl;
        for (i, owner) in owners.iter().enumerate() {
            let next = owners.get(i + 1).unwrap_or(&owners[0]);
            self.put_nsec_to(owner.as_str(), next.as_str(), ttl);
        }
    }

    /// The NSEC at `name`, pointing at the next name in the chain.
    /// Writes the NSEC at `name`; whether it changed.
    fn put_nsec(&mut self, name: &str, ttl: u32) -> bool {
        let next = self.chain_neighbour_after(name).unwrap_or_else(|| self.domain.clone());
        self.put_nsec_to(name, &next, ttl)
    }

    fn put_nsec_to(&mut self, name: &str, next: &str, ttl: u32) -> bool {
        let Some(node) = self.nodes.get_mut(&node::Lookup(name)) else { return false };
        let mut types: Vec<u16> = node.rrsets.iter().map(|s| s.rtype).filter(|t| !is_dnssec_own(*t)).collect();
        types.extend([NSEC, RRSIG]);
        let mut data = wire_lowercase(next);
        data.extend(rdata::type_bitmap(&types));
        let nsec = RRset::new(NSEC, [(ttl, data.as_slice())]);
        let changed = node.get(NSEC) != Some(&nsec);
        if changed {
            node.put(nsec);
        }
        changed
    }

    /// Takes `name` out of the chain: its NSEC and signatures go, and the name too if nothing
    /// else is left there.
    fn leave_chain(&mut self, name: &str) {
        if let Some(node) = self.nodes.get_mut(&node::Lookup(name)) {
            node.put(RRset::new(NSEC, []));
            node.put(RRset::new(RRSIG, []));
        }
        self.prune(name);
    }

    /// Whether `name` holds data of its own and is ours: it then has an NSEC.
    fn belongs_in_chain(&self, name: &str) -> bool {
        let has_data = self.node(name).is_some_and(|n| n.rrsets.iter().any(|s| !is_dnssec_own(s.rtype)));
        has_data && self.standing(name) != Standing::Occluded
    }

    /// The chain's name after `name` (which need not be in it), None past the last.
    fn chain_neighbour_after(&self, name: &str) -> Option<String> {
        use std::ops::Bound::{Excluded, Unbounded};
        let mut after = self.nodes.range::<_, node::Lookup>((Excluded(node::Lookup(name)), Unbounded));
        after.find(|(key, _)| self.belongs_in_chain(key.as_str())).map(|(key, _)| key.as_str().to_string())
    }

    /// The chain's name before `name`, wrapping to the last name for the apex.
    fn chain_neighbour_before(&self, name: &str) -> Option<String> {
        let before = self.nodes.range(..node::Lookup(name)).rev().find(|(key, _)| self.belongs_in_chain(key.as_str()));
        let last = || self.nodes.iter().rev().find(|(key, _)| self.belongs_in_chain(key.as_str()));
        before.or_else(last).map(|(key, _)| key.as_str().to_string()).filter(|found| found != name)
    }

    /// Whether `name` is the zone's own data, a delegation, or below one.
    pub(super) fn standing(&self, name: &str) -> Standing {
        match self.cut_above(name, hickory_proto::rr::RecordType::A) {
            None => Standing::Authoritative,
            Some(cut) if cut == name => Standing::Delegation,
            Some(_) => Standing::Occluded,
        }
    }
}

/// The records signing adds, which a name's own data does not count.
fn is_dnssec_own(rtype: u16) -> bool {
    rtype == NSEC || rtype == RRSIG
}

/// Which sets of a name of this standing are signed.
fn signs(standing: &Standing, rtype: u16) -> bool {
    match standing {
        Standing::Authoritative => rtype != RRSIG,
        Standing::Delegation => rtype == DS || rtype == NSEC,
        Standing::Occluded => false,
    }
}

/// The TTL an RRSIG is served with: its original TTL (bytes 4..8 of its RDATA).
fn original_ttl(rrsig: &[u8]) -> u32 {
    rrsig.get(4..8).map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// The RRSIG RDATA over `set` at `owner` (RFC 4034 §3.1.8.1): the fields, then the
/// signature over them and the set's records in canonical form and order.
fn rrsig(owner: &str, set: &RRset, key: &Signing, signer: &[u8], (inception, expiry): (i64, i64)) -> Option<Vec<u8>> {
    let ttl = set.first()?.0;
    let labels = owner.split('.').filter(|l| !l.is_empty()).count() - usize::from(owner.starts_with("*."));
    let mut data = Vec::with_capacity(18 + signer.len() + 64);
    data.extend_from_slice(&set.rtype.to_be_bytes());
    data.push(key.algorithm);
    data.push(u8::try_from(labels).ok()?);
    data.extend_from_slice(&ttl.to_be_bytes());
    // Times are 32-bit serial numbers (RFC 4034 §3.1.5): the low bits of the Unix time.
    data.extend_from_slice(&(expiry as u32).to_be_bytes());
    data.extend_from_slice(&(inception as u32).to_be_bytes());
    data.extend_from_slice(&key.tag.to_be_bytes());
    data.extend_from_slice(signer);
    let owner_wire = wire_lowercase(owner);
    let mut records: Vec<std::borrow::Cow<'_, [u8]>> =
        set.records().map(|(_, rdata)| rdata::canonical(Type(set.rtype), rdata)).collect();
    records.sort();
    records.dedup();
    let mut message = data.clone();
    for rdata in &records {
        message.extend_from_slice(&owner_wire);
        message.extend_from_slice(&set.rtype.to_be_bytes());
        message.extend_from_slice(&1u16.to_be_bytes());
        message.extend_from_slice(&ttl.to_be_bytes());
        message.extend_from_slice(&u16::try_from(rdata.len()).ok()?.to_be_bytes());
        message.extend_from_slice(rdata);
    }
    data.extend(key.signer.sign(&message)?);
    Some(data)
}
