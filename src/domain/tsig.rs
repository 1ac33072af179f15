//! TSIG keys (RFC 8945): named shared secrets that authenticate zone transfers (and, later,
//! dynamic updates). The secret must be kept as is to compute MACs, so it is stored, and shown
//! only when the key is created.

use std::str::FromStr;

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::{Timestamp, ValidationError, name};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum TsigAlgorithm {
    #[serde(rename = "hmac-sha256")]
    HmacSha256,
    #[serde(rename = "hmac-sha512")]
    HmacSha512,
}

impl TsigAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HmacSha256 => "hmac-sha256",
            Self::HmacSha512 => "hmac-sha512",
        }
    }

    fn secret_len(self) -> usize {
        match self {
            Self::HmacSha256 => 32,
            Self::HmacSha512 => 64,
        }
    }
}

impl FromStr for TsigAlgorithm {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().trim_end_matches('.') {
            "hmac-sha256" => Ok(Self::HmacSha256),
            "hmac-sha512" => Ok(Self::HmacSha512),
            _ => Err(ValidationError::new(
                "algorithm",
                format!("Unsupported TSIG algorithm '{s}': use hmac-sha256 or hmac-sha512"),
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TsigKey {
    /// A domain-style name, lowercase, no trailing dot (e.g. `xfr.example.net`).
    pub name: String,
    pub algorithm: TsigAlgorithm,
    /// Base64, as BIND's `key` clause and `dig -y` write it.
    pub secret: String,
    /// Zones the key may transfer and update; empty: every zone.
    pub zones: Vec<String>,
    /// Owner names (absolute, `*.` matching any name below) dynamic updates may touch; empty:
    /// any (a policy like deSEC's token scopes).
    #[serde(default)]
    pub names: Vec<String>,
    /// Record types dynamic updates may touch; empty: any.
    #[serde(default)]
    pub types: Vec<super::record::RecordType>,
    pub created_at: Timestamp,
}

impl TsigKey {
    /// A new key with a random secret of the algorithm's natural length.
    pub fn generate(
        key_name: &str,
        algorithm: TsigAlgorithm,
        zones: &[String],
        created_at: Timestamp,
    ) -> Result<Self, ValidationError> {
        let name = name::parse_host(key_name, "name", false)?;
        let zones = zones.iter().map(|z| name::parse_domain(z)).collect::<Result<_, _>>()?;
        let bytes: Vec<u8> = (0..algorithm.secret_len()).map(|_| rand::random::<u8>()).collect();
        let secret = base64::engine::general_purpose::STANDARD.encode(bytes);
        Ok(Self { name, algorithm, secret, zones, names: Vec::new(), types: Vec::new(), created_at })
    }

    pub fn secret_bytes(&self) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD.decode(&self.secret).unwrap_or_default()
    }

    pub fn covers(&self, zone: &str) -> bool {
        self.zones.is_empty() || self.zones.iter().any(|z| z == zone)
    }

    /// Whether a dynamic update may change records of `rtype` at `owner` (absolute).
    pub fn allows(&self, owner: &str, rtype: Option<super::record::RecordType>) -> bool {
        let name_ok = name::policy_allows(&self.names, owner);
        let type_ok = self.types.is_empty() || rtype.is_some_and(|t| self.types.contains(&t));
        name_ok && type_ok
    }

    /// Sets the update policy, normalising the names.
    pub fn with_policy(mut self, names: &[String], types: &[String]) -> Result<Self, ValidationError> {
        self.names = name::parse_name_policy(names, "names")?;
        self.types = types
            .iter()
            .map(|t| t.parse().map_err(|e: ValidationError| ValidationError::new("types", e.message)))
            .collect::<Result<_, _>>()?;
        Ok(self)
    }
}
