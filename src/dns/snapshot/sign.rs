//! Online signing of a snapshot (RFC 4033–4035), as Knot signs a zone: DNSKEY, CDS and
//! CDNSKEY at the apex, the NSEC chain in canonical order, and an RRSIG by every key over
//! every authoritative record set. Names below a zone cut are not signed; at a cut only DS and
//! NSEC are (the NS there belong to the child).

use rand::Rng;

use super::ZoneSnapshot;
use super::node::{Key, RRset};
use crate::domain::dnssec::{Dnssec, Phase, Signer};
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

/// One key, ready to sign.
struct Signing {
    signer: Signer,
    tag: u16,
    algorithm: u8,
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

impl ZoneSnapshot {
    /// Signs the whole snapshot with the zone's keys at time `now` (Unix seconds); returns the
    /// earliest signature expiry and how many signatures it made.
    pub(super) fn sign(&mut self, dnssec: &Dnssec, now: i64) -> Result<(i64, u64), String> {
        let keys = dnssec
            .keys
            .iter()
            .map(|k| Ok(Signing { signer: k.signer()?, tag: k.tag(), algorithm: k.algorithm.number() }))
            .collect::<Result<Vec<_>, String>>()?;
        self.put_key_sets(dnssec);
        self.put_nsec_chain();
        let names: Vec<Key> = self.nodes.keys().cloned().collect();
        let signer_name = wire_lowercase(&self.domain);
        let mut rng = rand::rng();
        let (mut earliest, mut made) = (i64::MAX, 0);
        for name in names {
            let standing = self.standing(name.as_str());
            let Some(node) = self.nodes.get(&name) else { continue };
            let mut signatures: Vec<Vec<u8>> = Vec::new();
            for set in node.rrsets.iter().filter(|set| signs(&standing, set.rtype)) {
                let expires = now + VALIDITY - rng.random_range(0..JITTER);
                earliest = earliest.min(expires);
                for key in &keys {
                    let validity = (now - BACKDATE, expires);
                    if let Some(sig) = rrsig(name.as_str(), set, key, &signer_name, validity) {
                        signatures.push(sig);
                        made += 1;
                    }
                }
            }
            if let Some(node) = self.nodes.get_mut(&name) {
                node.put(RRset::new(RRSIG, signatures.iter().map(|s| (node_ttl(s), s.as_slice()))));
            }
        }
        Ok((earliest, made))
    }

    /// DNSKEY, and CDS/CDNSKEY for the parent (RFC 7344): the keys while signed, the "delete"
    /// records (RFC 8078 §4) while going insecure.
    fn put_key_sets(&mut self, dnssec: &Dnssec) {
        let dnskeys: Vec<Vec<u8>> = dnssec.keys.iter().map(|k| k.dnskey_rdata()).collect();
        let (cds, cdnskey) = match dnssec.phase {
            Phase::Signed => (dnssec.keys.iter().map(|k| k.ds_rdata(&self.domain)).collect(), dnskeys.clone()),
            Phase::Unsigning => (vec![vec![0, 0, 0, 0, 0]], vec![vec![0, 0, 3, 0, 0]]),
        };
        let apex = self.nodes.entry(Key::new(&self.domain)).or_default();
        for (rtype, set) in [(DNSKEY, dnskeys), (CDS, cds), (CDNSKEY, cdnskey)] {
            apex.put(RRset::new(rtype, set.iter().map(|r| (KEY_TTL, r.as_slice()))));
        }
    }

    /// One NSEC per name that holds data and is ours (delegations included), naming the next
    /// such name and the types here, the last pointing back at the apex.
    fn put_nsec_chain(&mut self) {
        let owners: Vec<Key> = self
            .nodes
            .iter()
            .filter(|(name, node)| !node.rrsets.is_empty() && self.standing(name.as_str()) != Standing::Occluded)
            .map(|(name, _)| name.clone())
            .collect();
        let ttl = self.negative_soa.ttl;
        for (i, owner) in owners.iter().enumerate() {
            let next = owners.get(i + 1).unwrap_or(&owners[0]);
            let Some(node) = self.nodes.get_mut(owner) else { continue };
            let mut types: Vec<u16> =
                node.rrsets.iter().map(|s| s.rtype).filter(|t| *t != RRSIG && *t != NSEC).collect();
            types.extend([NSEC, RRSIG]);
            let mut data = wire_lowercase(next.as_str());
            data.extend(rdata::type_bitmap(&types));
            node.put(RRset::new(NSEC, [(ttl, data.as_slice())]));
        }
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

/// Which sets of a name of this standing are signed.
fn signs(standing: &Standing, rtype: u16) -> bool {
    match standing {
        Standing::Authoritative => rtype != RRSIG,
        Standing::Delegation => rtype == DS || rtype == NSEC,
        Standing::Occluded => false,
    }
}

/// The TTL an RRSIG is served with: its original TTL (bytes 4..8 of its RDATA).
fn node_ttl(rrsig: &[u8]) -> u32 {
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
