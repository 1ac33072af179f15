//! Users and API tokens: creation, the first admin, revocation, and bearer-token checks that
//! pay the argon2 cost once per token, not once per request.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use sha2::{Digest, Sha256};

use super::{Actor, Error, Result, Service, audit};
use crate::domain::auth::{self, Scope, Token, TokenStyle, User};
use crate::domain::{ValidationError, name, new_id, now};
use crate::store::Read;

/// A verified token, held in memory under the SHA-256 of the whole token string.
struct Verified {
    token_id: String,
    user_id: String,
    actor: Arc<Actor>,
    last_used_saved: i64,
}

/// How often `last_used_at` is written back: per request would make every read a write.
const LAST_USED_RESOLUTION: i64 = 60;

#[derive(Default)]
pub(super) struct TokenCache(RwLock<HashMap<[u8; 32], Verified>>);

impl TokenCache {
    fn get(&self, key: &[u8; 32]) -> Option<(Arc<Actor>, i64)> {
        let map = self.0.read().unwrap_or_else(|p| p.into_inner());
        map.get(key).map(|v| (v.actor.clone(), v.last_used_saved))
    }

    fn insert(&self, key: [u8; 32], verified: Verified) {
        self.0.write().unwrap_or_else(|p| p.into_inner()).insert(key, verified);
    }

    fn touch(&self, key: &[u8; 32], at: i64) {
        if let Some(v) = self.0.write().unwrap_or_else(|p| p.into_inner()).get_mut(key) {
            v.last_used_saved = at;
        }
    }

    fn forget(&self, keep: impl Fn(&Verified) -> bool) {
        self.0.write().unwrap_or_else(|p| p.into_inner()).retain(|_, v| keep(v));
    }
}

/// What creating a token asks for.
#[derive(Debug, Clone, Default)]
pub struct NewToken {
    pub label: String,
    pub style: TokenStyle,
    /// Empty: every scope the creator has.
    pub scopes: Vec<Scope>,
    pub zones: Vec<String>,
    /// Names whose records alone the token may change (dynamic DNS); empty: any.
    pub names: Vec<String>,
    /// Another user's id (admins only); None: the actor's own.
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub admin: Option<bool>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
    /// Needed to change one's own password, from any entry point: a stolen token or an
    /// unattended console must not be enough to take the account over.
    pub current_password: Option<String>,
}

impl Service {
    /// The actor of an already verified token, without blocking: no argon2, and no disk unless
    /// `last_used_at` is due to be written (then None, so the caller takes the blocking path).
    pub fn cached_actor(&self, bearer: &str) -> Option<Arc<Actor>> {
        let key: [u8; 32] = Sha256::digest(bearer.as_bytes()).into();
        let (actor, saved) = self.tokens.get(&key)?;
        (now() - saved < LAST_USED_RESOLUTION).then_some(actor)
    }

    /// The actor a bearer token stands for, asked by `client`. The first use of a token runs
    /// argon2 (off the async workers: callers are on the blocking pool), after the guard's
    /// checks; later uses hit the cache.
    pub fn authenticate(&self, bearer: &str, client: IpAddr) -> Result<Arc<Actor>> {
        let key: [u8; 32] = Sha256::digest(bearer.as_bytes()).into();
        if let Some((actor, saved)) = self.tokens.get(&key) {
            self.note_use(&key, &actor, saved);
            return Ok(actor);
        }
        self.guard.check_client(client)?;
        let found = match auth::parse_token(bearer) {
            Some((token_id, secret)) => self.store.read(|r| {
                let Some(token) = r.token(&token_id)?.filter(|t| !t.revoked) else { return Ok::<_, Error>(None) };
                let user = r.user(&token.user_id)?.filter(|u| !u.disabled);
                Ok(user.map(|user| (token, user, secret)))
            })?,
            None => None,
        };
        let Some((token, user, secret)) = found else {
            self.guard.client_failed(client);
            return Err(Error::Unauthorized);
        };
        let attempt = self.guard.begin(client, &format!("token:{}", token.id))?;
        if !self.guard.hash(|| auth::verify_secret(secret, &token.secret_hash))? {
            return Err(Error::Unauthorized);
        }
        attempt.succeeded();
        let admin = user.admin && token.scopes.contains(&Scope::Admin) && token.zones.is_empty();
        let actor = Arc::new(Actor {
            user_id: user.id.clone(),
            username: user.username,
            admin,
            via: token.id.clone(),
            scopes: Some(token.scopes),
            zones: token.zones,
            names: token.names,
        });
        self.tokens
            .insert(key, Verified { token_id: token.id, user_id: user.id, actor: actor.clone(), last_used_saved: 0 });
        self.note_use(&key, &actor, 0);
        Ok(actor)
    }

    fn note_use(&self, key: &[u8; 32], actor: &Actor, saved: i64) {
        let at = now();
        if at - saved < LAST_USED_RESOLUTION {
            return;
        }
        self.tokens.touch(key, at);
        let _ = self.store.write(|txn| {
            if let Some(mut token) = txn.token(&actor.via)? {
                token.last_used_at = Some(at);
                txn.put_token(&token)?;
            }
            Ok::<_, Error>(())
        });
    }

    /// The user a console sign-in from `client` names, if the password is right. Unknown and
    /// disabled users cost the same argon2 run as real ones.
    pub fn sign_in(&self, username: &str, password: &str, client: IpAddr) -> Result<User> {
        let username = username.trim().to_ascii_lowercase();
        let attempt = self.guard.begin(client, &format!("user:{username}"))?;
        let user = self.store.read(|r| Ok::<_, Error>(r.user_by_name(&username)?))?.filter(|u| !u.disabled);
        let hash = user.as_ref().map_or(auth::dummy_hash(), |u| u.password_hash.as_str());
        let right = self.guard.hash(|| auth::verify_secret(password, hash))?;
        match user {
            Some(user) if right => {
                attempt.succeeded();
                Ok(user)
            }
            _ => Err(Error::Unauthorized),
        }
    }

    /// On an empty database: creates `admin` and returns its password (generated unless given).
    pub fn bootstrap_admin(&self, password: Option<String>) -> Result<Option<String>> {
        if !self.store.read(|r| Ok::<_, Error>(r.users()?))?.is_empty() {
            return Ok(None);
        }
        let (_, password) = self.create_user(&Actor::system("cli"), "admin", password, true)?;
        Ok(Some(password))
    }

    /// Creates a user; returns it with its password (generated when none is given).
    pub fn create_user(
        &self,
        actor: &Actor,
        username: &str,
        password: Option<String>,
        admin: bool,
    ) -> Result<(User, String)> {
        actor.require_admin()?;
        let username = auth::validate_username(username)?;
        let password = password.unwrap_or_else(auth::generate_password);
        auth::validate_password(&password)?;
        let user = User {
            id: new_id("usr_"),
            username,
            password_hash: auth::hash_secret(&password),
            admin,
            disabled: false,
            created_at: now(),
        };
        self.store.write(|txn| {
            if txn.user_by_name(&user.username)?.is_some() {
                return Err(Error::Conflict(format!("User {} already exists", user.username)));
            }
            txn.put_user(&user)?;
            txn.append_audit(audit(actor, "user.create", None, None, Some(public_user(&user))))?;
            Ok(())
        })?;
        Ok((user, password))
    }

    pub fn list_users(&self, actor: &Actor) -> Result<Vec<User>> {
        actor.require_admin()?;
        self.store.read(|r| Ok(r.users()?))
    }

    pub fn user_by_id(&self, user_id: &str) -> Result<User> {
        self.store.read(|r| r.user(user_id)?.ok_or(Error::NotFound("User")))
    }

    pub fn find_user(&self, username: &str) -> Result<User> {
        self.store.read(|r| r.user_by_name(&username.to_ascii_lowercase())?.ok_or(Error::NotFound("User")))
    }

    pub fn update_user(&self, actor: &Actor, user_id: &str, change: UserChange) -> Result<User> {
        if actor.user_id != user_id || change.admin.is_some() || change.disabled.is_some() {
            actor.require_admin()?;
        }
        if let Some(password) = &change.password {
            auth::validate_password(password)?;
            if actor.user_id == user_id {
                let current = self.user_by_id(user_id)?;
                let given = change.current_password.as_deref().unwrap_or_default();
                if !self.guard.hash(|| auth::verify_secret(given, &current.password_hash))? {
                    return Err(ValidationError::new("current_password", "The current password is wrong").into());
                }
            }
        }
        let hash = change.password.as_deref().map(auth::hash_secret);
        let user = self.store.write(|txn| {
            let before = txn.user(user_id)?.ok_or(Error::NotFound("User"))?;
            let mut user = before.clone();
            user.admin = change.admin.unwrap_or(user.admin);
            user.disabled = change.disabled.unwrap_or(user.disabled);
            if let Some(hash) = hash {
                user.password_hash = hash;
            }
            if user.id == actor.user_id && (!user.admin && before.admin || user.disabled) {
                return Err(Error::Conflict("You cannot remove your own admin rights or disable yourself".into()));
            }
            txn.put_user(&user)?;
            txn.append_audit(audit(actor, "user.update", None, Some(public_user(&before)), Some(public_user(&user))))?;
            Ok::<_, Error>(user)
        })?;
        self.tokens.forget(|v| v.user_id != user.id);
        Ok(user)
    }

    pub fn delete_user(&self, actor: &Actor, user_id: &str) -> Result<()> {
        actor.require_admin()?;
        if actor.user_id == user_id {
            return Err(Error::Conflict("You cannot delete yourself".into()));
        }
        self.store.write(|txn| {
            let user = txn.user(user_id)?.ok_or(Error::NotFound("User"))?;
            if txn.zones()?.iter().any(|z| z.owner == user.id) {
                return Err(Error::Conflict(format!(
                    "User {} still owns zones: delete or move them first",
                    user.username
                )));
            }
            for mut token in txn.tokens()?.into_iter().filter(|t| t.user_id == user.id && !t.revoked) {
                token.revoked = true;
                txn.put_token(&token)?;
            }
            txn.delete_user(&user)?;
            txn.append_audit(audit(actor, "user.delete", None, Some(public_user(&user)), None))?;
            Ok::<_, Error>(())
        })?;
        self.tokens.forget(|v| v.user_id != user_id);
        Ok(())
    }

    /// Creates a token and returns it with the token string, which is never shown again.
    /// A token can only hand out rights its creator has.
    pub fn create_token(&self, actor: &Actor, new: NewToken) -> Result<(Token, String)> {
        let user_id = new.user_id.clone().unwrap_or_else(|| actor.user_id.clone());
        if user_id != actor.user_id {
            actor.require_admin()?;
        }
        let label = new.label.trim().to_string();
        if label.is_empty() || label.len() > 100 {
            return Err(ValidationError::new("name", "A token needs a name of 1-100 characters").into());
        }
        let owner = self.store.read(|r| Ok::<_, Error>(r.user(&user_id)?))?.ok_or(Error::NotFound("User"))?;
        let usable = |s: &Scope| actor.may_grant(*s) && (*s != Scope::Admin || owner.admin);
        let mut scopes =
            if new.scopes.is_empty() { Scope::ALL.into_iter().filter(usable).collect() } else { new.scopes };
        scopes.sort_by_key(|s| Scope::ALL.iter().position(|x| x == s));
        scopes.dedup();
        if let Some(missing) = scopes.iter().find(|s| !actor.may_grant(**s)) {
            return Err(Error::Forbidden(format!("Token lacks {missing} permission, so it cannot grant it")));
        }
        if scopes.contains(&Scope::Admin) && !owner.admin {
            return Err(ValidationError::new("scopes", "Only an admin user's token can hold the admin scope").into());
        }
        let mut zones = new
            .zones
            .iter()
            .map(|z| name::parse_domain(z).map_err(|e| ValidationError::new("zones", e.message)))
            .collect::<Result<Vec<_>, _>>()?;
        if zones.is_empty() {
            zones = actor.zones.clone();
        } else if zones.iter().any(|z| !actor.may_use_domain(z)) {
            return Err(Error::Forbidden("A token cannot grant zones its creator may not use".into()));
        }
        let mut names = name::parse_name_policy(&new.names, "names")?;
        if names.is_empty() {
            names = actor.names.clone();
        } else if !actor.names.is_empty() && names.iter().any(|n| !actor.names.contains(n)) {
            return Err(Error::Forbidden("A token cannot grant names its creator may not change".into()));
        }
        let (id, token_string, secret) = auth::generate_token(new.style);
        let token = Token {
            id,
            user_id: user_id.clone(),
            label,
            style: new.style,
            secret_hash: auth::hash_secret(&secret),
            scopes,
            zones,
            names,
            created_at: now(),
            last_used_at: None,
            revoked: false,
        };
        self.store.write(|txn| {
            txn.user(&user_id)?.ok_or(Error::NotFound("User"))?;
            txn.put_token(&token)?;
            txn.append_audit(audit(actor, "token.create", None, None, Some(public_token(&token))))?;
            Ok::<_, Error>(())
        })?;
        Ok((token, token_string))
    }

    /// The actor's tokens; an admin may ask for all (`all_users`).
    pub fn list_tokens(&self, actor: &Actor, all_users: bool) -> Result<Vec<Token>> {
        if all_users {
            actor.require_admin()?;
        }
        let tokens = self.store.read(|r| Ok::<_, Error>(r.tokens()?))?;
        Ok(tokens.into_iter().filter(|t| all_users || t.user_id == actor.user_id).collect())
    }

    /// Revokes a token: it stops working at once, cache included.
    pub fn revoke_token(&self, actor: &Actor, token_id: &str) -> Result<Token> {
        let token = self.store.write(|txn| {
            let before = txn
                .token(token_id)?
                .filter(|t| t.user_id == actor.user_id || actor.admin)
                .ok_or(Error::NotFound("Token"))?;
            if !actor.admin && !actor.covers(&before) {
                return Err(Error::Forbidden("A token cannot revoke a token with rights it lacks".into()));
            }
            let mut token = before.clone();
            token.revoked = true;
            txn.put_token(&token)?;
            txn.append_audit(audit(
                actor,
                "token.revoke",
                None,
                Some(public_token(&before)),
                Some(public_token(&token)),
            ))?;
            Ok::<_, Error>(token)
        })?;
        self.tokens.forget(|v| v.token_id != token.id);
        Ok(token)
    }
}

impl Actor {
    /// The server itself or an operator at the CLI: every right.
    pub fn system(via: &str) -> Actor {
        Actor {
            user_id: String::new(),
            username: via.to_string(),
            admin: true,
            via: via.to_string(),
            scopes: None,
            zones: Vec::new(),
            names: Vec::new(),
        }
    }

    /// A user acting with their full rights (console, CLI on their behalf).
    pub fn user(user: &User, via: &str) -> Actor {
        Actor {
            user_id: user.id.clone(),
            username: user.username.clone(),
            admin: user.admin,
            via: via.to_string(),
            scopes: None,
            zones: Vec::new(),
            names: Vec::new(),
        }
    }
}

/// Audit values never carry hashes.
fn public_user(user: &User) -> serde_json::Value {
    serde_json::json!({"id": user.id, "username": user.username, "admin": user.admin, "disabled": user.disabled})
}

fn public_token(token: &Token) -> serde_json::Value {
    serde_json::json!({"id": token.id, "user_id": token.user_id, "name": token.label, "prefix": token.display_prefix(), "scopes": token.scopes, "zones": token.zones, "revoked": token.revoked})
}
