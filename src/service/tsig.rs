//! TSIG keys: admins create, list and delete them; the nameserver gets every change at once.

use super::{Actor, Error, Result, Service, audit};
use crate::domain::now;
use crate::domain::tsig::{TsigAlgorithm, TsigKey};
use crate::store::Read;

impl Service {
    /// Creates a key; the answer holds its secret, which later listings do not.
    pub fn create_tsig_key(
        &self,
        actor: &Actor,
        name: &str,
        algorithm: TsigAlgorithm,
        zones: &[String],
    ) -> Result<TsigKey> {
        self.create_tsig_key_with_policy(actor, name, algorithm, zones, &[], &[])
    }

    /// A key whose dynamic updates are limited to some names and/or types.
    pub fn create_tsig_key_with_policy(
        &self,
        actor: &Actor,
        name: &str,
        algorithm: TsigAlgorithm,
        zones: &[String],
        names: &[String],
        types: &[String],
    ) -> Result<TsigKey> {
        actor.require_admin()?;
        let key = TsigKey::generate(name, algorithm, zones, now())?.with_policy(names, types)?;
        self.store.write(|txn| {
            if txn.tsig_keys()?.iter().any(|k| k.name == key.name) {
                return Err(Error::Conflict(format!("TSIG key {} already exists", key.name)));
            }
            txn.put_tsig_key(&key)?;
            txn.append_audit(audit(actor, "tsig.create", None, None, Some(public(&key))))?;
            Ok(())
        })?;
        self.publish_tsig_keys()?;
        Ok(key)
    }

    pub fn list_tsig_keys(&self, actor: &Actor) -> Result<Vec<TsigKey>> {
        actor.require_admin()?;
        self.store.read(|r| Ok(r.tsig_keys()?))
    }

    pub fn delete_tsig_key(&self, actor: &Actor, name: &str) -> Result<()> {
        actor.require_admin()?;
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.store.write(|txn| {
            let key = txn.tsig_keys()?.into_iter().find(|k| k.name == name).ok_or(Error::NotFound("TSIG key"))?;
            txn.delete_tsig_key(&name)?;
            txn.append_audit(audit(actor, "tsig.delete", None, Some(public(&key)), None))?;
            Ok::<_, Error>(())
        })?;
        self.publish_tsig_keys()
    }

    /// Hands the current keys to the nameserver.
    pub fn publish_tsig_keys(&self) -> Result<()> {
        let keys = self.store.read(|r| Ok::<_, Error>(r.tsig_keys()?))?;
        self.nameserver.set_tsig_keys(&keys);
        Ok(())
    }
}

/// The audit trail names keys, never their secrets.
fn public(key: &TsigKey) -> serde_json::Value {
    serde_json::json!({"name": key.name, "algorithm": key.algorithm, "zones": key.zones, "names": key.names, "types": key.types})
}
