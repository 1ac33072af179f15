//! TSIG on the wire (RFC 8945): checking a request's signature and signing a run of response
//! messages. hickory computes the MACs; this decides what goes into them.

use std::sync::Arc;

use hickory_proto::rr::rdata::tsig::{TSIG, TsigAlgorithm, make_tsig_record};
use hickory_proto::rr::{Name, Record, TSigResponseContext, TSigner};
use hickory_server::server::Request;

use crate::domain::tsig::{TsigAlgorithm as Algorithm, TsigKey};

const FUDGE: u16 = 300;

/// A configured key and its signer.
pub struct Key {
    pub key: TsigKey,
    signer: TSigner,
}

pub fn keys(keys: &[TsigKey]) -> Vec<Arc<Key>> {
    keys.iter()
        .filter_map(|k| {
            let algorithm = match k.algorithm {
                Algorithm::HmacSha256 => TsigAlgorithm::HmacSha256,
                Algorithm::HmacSha512 => TsigAlgorithm::HmacSha512,
            };
            let name = Name::from_ascii(format!("{}.", k.name)).ok()?;
            let signer = TSigner::new(k.secret_bytes(), algorithm, name, FUDGE).ok()?;
            Some(Arc::new(Key { key: k.clone(), signer }))
        })
        .collect()
}

pub enum Verdict {
    Unsigned,
    Valid {
        key: Arc<Key>,
        signing: Signing,
    },
    /// Unknown key, bad MAC or bad time: NOTAUTH, with the TSIG error the client can read.
    Invalid(Option<TSigResponseContext>),
}

fn now() -> u64 {
    u64::try_from(crate::domain::now()).unwrap_or(0)
}

/// The TSIG verdict on a request; the keys are looked at only when it is signed (most queries
/// are not).
pub fn check(request: &Request, catalog: &super::Catalog) -> Verdict {
    let Some(tsig) = request.signature.as_deref() else { return Verdict::Unsigned };
    let keys = catalog.tsig_keys();
    let (id, now) = (request.metadata.id, now());
    // A key is its name and its algorithm (RFC 8945 §5.2.1): another algorithm is BADKEY.
    let known = |k: &&Arc<Key>| k.signer.signer_name() == &tsig.name && k.signer.algorithm() == &tsig.data.algorithm;
    let Some(key) = keys.iter().find(known) else {
        return Verdict::Invalid(Some(TSigResponseContext::unknown_key(id, now, tsig.name.clone())));
    };
    let Ok((_, _, valid_time)) = key.signer.verify_message_byte(request.as_slice(), None, true) else {
        return Verdict::Invalid(Some(TSigResponseContext::bad_signature(id, now, key.signer.clone())));
    };
    if !valid_time.contains(&now) {
        return Verdict::Invalid(None);
    }
    let signing =
        Signing { signer: key.signer.clone(), id, time: now, previous_mac: tsig.data.mac.clone(), first: true };
    Verdict::Valid { key: key.clone(), signing }
}

/// Signs the messages of one answer in order: the first over the request's MAC, each later
/// one over the previous MAC and its timers only (RFC 8945 §5.3.1).
pub struct Signing {
    signer: TSigner,
    id: u16,
    time: u64,
    previous_mac: Vec<u8>,
    first: bool,
}

impl Signing {
    /// The MAC of the request this answers.
    pub fn request_mac(&self) -> &[u8] {
        &self.previous_mac
    }

    /// The TSIG record for one encoded message (without its own TSIG).
    pub fn sign(&mut self, message: &[u8]) -> Option<Box<Record<TSIG>>> {
        let record = if self.first {
            let context =
                TSigResponseContext::new(self.id, self.time, self.signer.clone(), self.previous_mac.clone(), None);
            context.sign(message).ok()?
        } else {
            let mut tbs = Vec::with_capacity(self.previous_mac.len() + message.len() + 10);
            tbs.extend_from_slice(&u16::try_from(self.previous_mac.len()).ok()?.to_be_bytes());
            tbs.extend_from_slice(&self.previous_mac);
            tbs.extend_from_slice(message);
            tbs.extend_from_slice(&self.time.to_be_bytes()[2..]);
            tbs.extend_from_slice(&FUDGE.to_be_bytes());
            let mac = self.signer.sign(&tbs).ok()?;
            let tsig = TSIG::new(self.signer.algorithm().clone(), self.time, FUDGE, mac, self.id, None, Vec::new());
            Box::new(make_tsig_record(self.signer.signer_name().clone(), tsig))
        };
        self.first = false;
        self.previous_mac = record.data.mac.clone();
        Some(record)
    }
}

/// The MACs of signed updates seen within the time a signature is valid: a captured update
/// sent again (within the fudge, its time still passes) is refused instead of applied twice.
#[derive(Default)]
pub struct Replays(std::sync::Mutex<std::collections::HashMap<Vec<u8>, u64>>);

impl Replays {
    /// Whether `mac` is new; remembers it either way.
    pub fn first_use(&self, mac: &[u8]) -> bool {
        let now = now();
        let mut seen = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.len() > 10_000 {
            seen.retain(|_, at| now.saturating_sub(*at) <= 2 * u64::from(FUDGE));
        }
        seen.insert(mac.to_vec(), now).is_none_or(|at| now.saturating_sub(at) > 2 * u64::from(FUDGE))
    }
}

/// How a refusal is signed, if at all.
pub fn error_signature(context: Option<TSigResponseContext>, message: &[u8]) -> Option<Box<Record<TSIG>>> {
    context?.sign(message).ok()
}
