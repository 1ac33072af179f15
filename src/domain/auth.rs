//! Users, API tokens and scopes; argon2id hashing of passwords and token secrets.

use std::fmt;
use std::str::FromStr;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use super::{Timestamp, ValidationError, random_string};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub username: String,
    pub password_hash: String,
    pub admin: bool,
    pub disabled: bool,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Scope {
    #[serde(rename = "dns:list")]
    List,
    #[serde(rename = "dns:read")]
    Read,
    #[serde(rename = "dns:create")]
    Create,
    #[serde(rename = "dns:update")]
    Update,
    #[serde(rename = "dns:delete")]
    Delete,
    /// Server administration (users, every token, TSIG keys, backups): only an admin user's
    /// token with no zone limit can hold it, and only when it names it.
    #[serde(rename = "admin")]
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 6] = [Self::List, Self::Read, Self::Create, Self::Update, Self::Delete, Self::Admin];
    /// The record and zone scopes of the vendor documents.
    pub const DNS: [Scope; 5] = [Self::List, Self::Read, Self::Create, Self::Update, Self::Delete];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::List => "dns:list",
            Self::Read => "dns:read",
            Self::Create => "dns:create",
            Self::Update => "dns:update",
            Self::Delete => "dns:delete",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == s).ok_or_else(|| {
            ValidationError::new(
                "scopes",
                format!("Unknown scope '{s}'. Scopes: {}", Self::ALL.map(Self::as_str).join(", ")),
            )
        })
    }
}

/// The two token spellings of the vendor documents; either works in both dialects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenStyle {
    #[default]
    Vps,
    SkLive,
}

impl TokenStyle {
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Vps => "vps_",
            Self::SkLive => "sk_live_",
        }
    }
}

impl FromStr for TokenStyle {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim_end_matches('_') {
            "vps" => Ok(Self::Vps),
            "sk_live" => Ok(Self::SkLive),
            _ => Err(ValidationError::new("style", format!("Unknown token style '{s}': use vps or sk_live"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    /// `tok_` + the id part of the token string (not secret).
    pub id: String,
    pub user_id: String,
    pub label: String,
    pub style: TokenStyle,
    /// argon2id PHC string of the secret part.
    pub secret_hash: String,
    pub scopes: Vec<Scope>,
    /// Domains the token is limited to; empty means all of the user's zones.
    pub zones: Vec<String>,
    /// Names (absolute, `*.` for any below) whose records the token may change; empty: any.
    /// A dynamic-DNS token is one limited to its host names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked: bool,
}

impl Token {
    /// What may be shown of a token after creation: style prefix and id, never the secret.
    pub fn display_prefix(&self) -> String {
        format!("{}{}", self.style.prefix(), self.id.trim_start_matches("tok_"))
    }
}

const TOKEN_ID_LEN: usize = 12;
const TOKEN_SECRET_LEN: usize = 40;

/// A fresh token: (row id, the whole token string to show once, its secret part).
pub fn generate_token(style: TokenStyle) -> (String, String, String) {
    let id = random_string(TOKEN_ID_LEN);
    let secret = random_string(TOKEN_SECRET_LEN);
    (format!("tok_{id}"), format!("{}{id}_{secret}", style.prefix()), secret)
}

/// Splits `vps_<id>_<secret>` / `sk_live_<id>_<secret>` into (row id, secret).
pub fn parse_token(token: &str) -> Option<(String, &str)> {
    let rest = token.strip_prefix("vps_").or_else(|| token.strip_prefix("sk_live_"))?;
    let (id, secret) = rest.split_once('_')?;
    let well_formed = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_alphanumeric());
    (well_formed(id, TOKEN_ID_LEN) && well_formed(secret, TOKEN_SECRET_LEN)).then(|| (format!("tok_{id}"), secret))
}

/// argon2id with the crate's default (OWASP) parameters and a random salt.
pub fn hash_secret(secret: &str) -> String {
    Argon2::default()
        .hash_password(secret.as_bytes())
        .map(|hash| hash.to_string())
        // Hashing fails only on absurd parameters or a broken OS RNG: nothing to recover.
        .unwrap_or_default()
}

/// A hash of a secret nobody knows: verifying a sign-in for an unknown user against it costs
/// what a real check costs, so the answer's timing does not tell which users exist.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| hash_secret(&random_string(40)));
    &DUMMY
}

pub fn verify_secret(secret: &str, hash: &str) -> bool {
    !hash.is_empty() && Argon2::default().verify_password(secret.as_bytes(), hash).is_ok()
}

pub fn validate_username(name: &str) -> Result<String, ValidationError> {
    let name = name.trim().to_ascii_lowercase();
    let ok = (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'));
    if ok {
        Ok(name)
    } else {
        Err(ValidationError::new("username", "Usernames are 1-64 letters, digits, '.', '_', '-' or '@'"))
    }
}

pub const MIN_PASSWORD: usize = 10;

pub fn validate_password(password: &str) -> Result<(), ValidationError> {
    if password.chars().count() < MIN_PASSWORD || password.len() > 1024 {
        return Err(ValidationError::new("password", format!("Passwords need at least {MIN_PASSWORD} characters")));
    }
    Ok(())
}

/// What a console session remembers of its user's password hash: a session begun before the
/// password changed no longer matches and ends.
pub fn credential_fingerprint(password_hash: &str) -> [u8; 16] {
    let digest = sha2::Sha256::digest(password_hash.as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

/// A password to print once for a new user.
pub fn generate_password() -> String {
    random_string(20)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        let (id, token, secret) = generate_token(TokenStyle::SkLive);
        assert!(token.starts_with("sk_live_"));
        assert_eq!(parse_token(&token), Some((id, secret.as_str())));
        assert_eq!(parse_token("vps_short_x"), None);
        assert_eq!(parse_token("Bearer x"), None);
        let hash = hash_secret(&secret);
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_secret(&secret, &hash));
        assert!(!verify_secret("wrong", &hash));
    }
}
