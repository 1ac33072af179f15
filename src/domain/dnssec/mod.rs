//! DNSSEC keys of a zone: which algorithm and denial, the keys, their DNSKEY and DS forms, and
//! signing bytes with them (ring). Private keys live only in the zone as stored; nothing here
//! prints or serializes them except into the data file.

use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};

use super::{Timestamp, ValidationError};

mod rollover;
pub use rollover::Policy;

/// A DNSKEY algorithm nsbox signs with (RFC 8624's recommended two).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// 13
    Ecdsap256sha256,
    /// 15
    Ed25519,
}

impl Algorithm {
    pub fn number(self) -> u8 {
        match self {
            Algorithm::Ecdsap256sha256 => 13,
            Algorithm::Ed25519 => 15,
        }
    }

    pub fn parse(text: &str) -> Result<Algorithm, ValidationError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "ecdsap256sha256" | "13" => Ok(Algorithm::Ecdsap256sha256),
            "ed25519" | "15" => Ok(Algorithm::Ed25519),
            other => Err(ValidationError::new(
                "algorithm",
                format!("'{other}' is not a signing algorithm: ecdsap256sha256 or ed25519"),
            )),
        }
    }
}

/// How the zone proves a name or type does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Denial {
    Nsec,
    Nsec3,
}

impl Denial {
    pub fn parse(text: &str) -> Result<Denial, ValidationError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "nsec" => Ok(Denial::Nsec),
            "nsec3" => Ok(Denial::Nsec3),
            other => Err(ValidationError::new("denial", format!("'{other}' is not a denial method: nsec or nsec3"))),
        }
    }
}

/// Where a zone is on its way in or out of DNSSEC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Signed; CDS/CDNSKEY of the key are published for the parent.
    Signed,
    /// Still signed, with CDS/CDNSKEY "delete" published (RFC 8078 §4) until the operator
    /// confirms the parent's DS is gone.
    Unsigning,
}

/// The word a DNSSEC setting or state (algorithm, denial, phase, role, key state) goes by
/// wherever it is shown: its variant's name in lowercase, which is also its serde name.
pub fn word(value: &impl std::fmt::Debug) -> String {
    format!("{value:?}").to_lowercase()
}

/// A private key in PKCS#8. Its Debug form hides it, so no log shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivateKey(#[serde(with = "base64_bytes")] Vec<u8>);

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivateKey(hidden)")
    }
}

/// What a key signs: a CSK everything, a KSK the apex key sets, a ZSK the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    Csk,
    Ksk,
    Zsk,
}

/// Where a key is in its life (RFC 7583's phases, as nsbox steps through them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// In the DNSKEY set, not signing yet: caches learn it first (ZSK pre-publication).
    Published,
    /// Signing.
    #[default]
    Active,
    /// Still in the DNSKEY set and still signing, beside its successor, until caches and
    /// the parent have moved on (KSK/CSK and algorithm rollovers: double signatures).
    Retiring,
    /// In the DNSKEY set, no longer signing (ZSK pre-publication's last step).
    Retired,
}

/// One signing key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKey {
    pub algorithm: Algorithm,
    pub flags: u16,
    /// The public key as DNSKEY carries it.
    #[serde(with = "base64_bytes")]
    pub public: Vec<u8>,
    pub private: PrivateKey,
    pub created_at: Timestamp,
    #[serde(default)]
    pub role: Role,
    #[serde(default)]
    pub state: KeyState,
    /// When the key entered its state.
    #[serde(default)]
    pub since: Timestamp,
}

/// A zone's DNSSEC settings and keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dnssec {
    pub algorithm: Algorithm,
    pub denial: Denial,
    pub phase: Phase,
    pub keys: Vec<SigningKey>,
}

impl SigningKey {
    /// A new key of `algorithm` for `role`, in `state` from now.
    pub fn generate(algorithm: Algorithm, role: Role, state: KeyState, now: Timestamp) -> Result<SigningKey, String> {
        let rng = SystemRandom::new();
        let failed = |_| "the system random number generator failed".to_string();
        let (private, public) = match algorithm {
            Algorithm::Ecdsap256sha256 => {
                let pkcs8 =
                    EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng).map_err(failed)?;
                let pair = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
                    .map_err(|_| "a new key could not be read".to_string())?;
                // DNSKEY holds the point without its leading 0x04 (RFC 6605 §4).
                (pkcs8.as_ref().to_vec(), pair.public_key().as_ref()[1..].to_vec())
            }
            Algorithm::Ed25519 => {
                let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(failed)?;
                let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
                    .map_err(|_| "a new key could not be read".to_string())?;
                (pkcs8.as_ref().to_vec(), pair.public_key().as_ref().to_vec())
            }
        };
        // The SEP bit (257) marks the keys the parent's DS points at.
        let flags = if role == Role::Zsk { 256 } else { 257 };
        Ok(SigningKey {
            algorithm,
            flags,
            public,
            private: PrivateKey(private),
            created_at: now,
            role,
            state,
            since: now,
        })
    }

    /// Whether it signs the apex key sets (DNSKEY, CDS, CDNSKEY).
    pub fn signs_keys(&self) -> bool {
        self.role != Role::Zsk && matches!(self.state, KeyState::Active | KeyState::Retiring)
    }

    /// Whether it signs the zone's other sets.
    pub fn signs_zone(&self) -> bool {
        self.role != Role::Ksk && matches!(self.state, KeyState::Active | KeyState::Retiring)
    }

    /// Whether the parent should have a DS for it (CDS/CDNSKEY list it).
    pub fn wants_ds(&self) -> bool {
        self.role != Role::Zsk && self.state == KeyState::Active
    }

    /// The DNSKEY RDATA: flags, protocol 3, algorithm, public key.
    pub fn dnskey_rdata(&self) -> Vec<u8> {
        let mut rdata = Vec::with_capacity(4 + self.public.len());
        rdata.extend_from_slice(&self.flags.to_be_bytes());
        rdata.push(3);
        rdata.push(self.algorithm.number());
        rdata.extend_from_slice(&self.public);
        rdata
    }

    /// The key tag (RFC 4034 Appendix B).
    pub fn tag(&self) -> u16 {
        key_tag(&self.dnskey_rdata())
    }

    /// The DS RDATA with SHA-256 (digest type 2) for the zone `domain`.
    pub fn ds_rdata(&self, domain: &str) -> Vec<u8> {
        let mut data = super::name::wire_lowercase(domain);
        data.extend_from_slice(&self.dnskey_rdata());
        let digest = ring::digest::digest(&ring::digest::SHA256, &data);
        let mut rdata = Vec::with_capacity(36);
        rdata.extend_from_slice(&self.tag().to_be_bytes());
        rdata.push(self.algorithm.number());
        rdata.push(2);
        rdata.extend_from_slice(digest.as_ref());
        rdata
    }

    /// The DS as the registrar takes it: `<key tag> <algorithm> 2 <SHA-256 hex>`.
    pub fn ds_text(&self, domain: &str) -> String {
        let digest: String = self.ds_rdata(domain)[4..].iter().map(|b| format!("{b:02X}")).collect();
        format!("{} {} 2 {digest}", self.tag(), self.algorithm.number())
    }

    /// The DNSKEY in presentation form (without owner, class and type).
    pub fn dnskey_text(&self) -> String {
        let key = base64::engine::general_purpose::STANDARD.encode(&self.public);
        format!("{} 3 {} {key}", self.flags, self.algorithm.number())
    }

    /// A signer for many signatures, made once.
    pub fn signer(&self) -> Result<Signer, String> {
        let unreadable = |_| "a stored DNSSEC key could not be read".to_string();
        Ok(match self.algorithm {
            Algorithm::Ecdsap256sha256 => Signer::Ecdsa(
                EcdsaKeyPair::from_pkcs8(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &self.private.0,
                    &SystemRandom::new(),
                )
                .map_err(unreadable)?,
                SystemRandom::new(),
            ),
            Algorithm::Ed25519 => Signer::Ed25519(Ed25519KeyPair::from_pkcs8(&self.private.0).map_err(unreadable)?),
        })
    }
}

/// The NSEC3 hash of a name (RFC 5155 §5) with RFC 9276's parameters: SHA-1, no extra
/// iterations, no salt.
pub fn nsec3_hash(name: &str) -> [u8; 20] {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &super::name::wire_lowercase(name));
    let mut hash = [0u8; 20];
    hash.copy_from_slice(digest.as_ref());
    hash
}

/// Base32 with the extended hex alphabet (RFC 4648 §7), lowercase, unpadded: how NSEC3
/// owner names spell hashes.
pub fn base32hex(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut buffer, mut bits) = (0u32, 0);
    for byte in bytes {
        buffer = (buffer << 8) | u32::from(*byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The key tag of a DNSKEY's RDATA (RFC 4034 Appendix B).
pub fn key_tag(dnskey_rdata: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for (i, byte) in dnskey_rdata.iter().enumerate() {
        sum += if i % 2 == 0 { u32::from(*byte) << 8 } else { u32::from(*byte) };
    }
    sum += (sum >> 16) & 0xffff;
    (sum & 0xffff) as u16
}

pub enum Signer {
    Ecdsa(EcdsaKeyPair, SystemRandom),
    Ed25519(Ed25519KeyPair),
}

impl Signer {
    /// The signature of `message`, as RRSIG carries it.
    pub fn sign(&self, message: &[u8]) -> Option<Vec<u8>> {
        match self {
            Signer::Ecdsa(pair, rng) => pair.sign(rng, message).ok().map(|s| s.as_ref().to_vec()),
            Signer::Ed25519(pair) => Some(pair.sign(message).as_ref().to_vec()),
        }
    }
}

mod base64_bytes {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_the_serde_names() {
        let serde = |value: serde_json::Value| value.as_str().map(String::from);
        for (shown, named) in [
            (word(&Algorithm::Ecdsap256sha256), serde_json::to_value(Algorithm::Ecdsap256sha256)),
            (word(&Algorithm::Ed25519), serde_json::to_value(Algorithm::Ed25519)),
            (word(&Denial::Nsec3), serde_json::to_value(Denial::Nsec3)),
            (word(&Phase::Unsigning), serde_json::to_value(Phase::Unsigning)),
            (word(&Role::Csk), serde_json::to_value(Role::Csk)),
            (word(&KeyState::Retiring), serde_json::to_value(KeyState::Retiring)),
        ] {
            assert_eq!(Some(shown), named.ok().and_then(serde));
        }
    }

    #[test]
    fn key_tag_follows_rfc_4034() {
        // RFC 4034 §5.4's example key of dskey.example.com: tag 60485.
        let key = base64::engine::general_purpose::STANDARD
            .decode(concat!(
                "AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/",
                "M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw=="
            ))
            .expect("base64");
        let rdata = [&[1, 0, 3, 5][..], &key].concat();
        assert_eq!(key_tag(&rdata), 60485);
    }

    #[test]
    fn nsec3_hashes_follow_rfc_5155() {
        // RFC 5155 Appendix A hashes with 12 iterations and a salt; with none, dig's
        // `nsec3hash - 1 0 example` gives this.
        assert_eq!(base32hex(&nsec3_hash("example")), "3msev9usmd4br9s97v51r2tdvmr9iqo1");
        assert_eq!(base32hex(b"f"), "co");
        assert_eq!(base32hex(b"foobar"), "cpnmuoj1e8");
    }

    #[test]
    fn a_generated_key_signs_and_shows_no_secret() {
        for algorithm in [Algorithm::Ecdsap256sha256, Algorithm::Ed25519] {
            let key = SigningKey::generate(algorithm, Role::Csk, KeyState::Active, 0).expect("key");
            assert!(key.signer().expect("signer").sign(b"data").is_some_and(|s| s.len() == 64));
            assert!(!format!("{key:?}").contains(&format!("{:?}", key.private.0)));
            assert_eq!(key.ds_text("example.com").split(' ').count(), 4);
        }
    }
}
