//! Where each record is stored. The dialects name a record by its id alone, but records are
//! keyed (zone, name, id) so that a name's records are one range for the rule checks; this
//! index gives the rest of the key.
//!
//! It is derived from those keys, so it lives in memory and is rebuilt when the file opens: as
//! a table of its own it put two more pages into every create's flush, 5–10 % of a create
//! (BENCHMARKS.md). A write applies its changes after its commit. A reader whose snapshot and
//! the index disagree misses the record where the index says it is; it then looks again in a
//! snapshot begun while no commit is being applied (`settled`).

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use super::StoreError;
use crate::domain::{id_from_value, id_value};

/// A record's zone and relative name: with its id, its key in RECORDS. Ids are held as the
/// value they encode, 16 bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    zone: u128,
    name: Box<str>,
}

impl Place {
    /// Fails for ids nsbox never makes: a record stored under one could not be found again.
    pub fn of(zone_id: &str, name: &str, record_id: &str) -> Result<(u128, Place), StoreError> {
        match (id_value("dom_", zone_id), id_value("rec_", record_id)) {
            (Some(zone), Some(id)) => Ok((id, Place { zone, name: name.into() })),
            _ => Err(StoreError::Corrupt(format!("record {record_id} of zone {zone_id}: not an id nsbox makes"))),
        }
    }

    /// The place of a stored key's zone and name.
    pub fn new(zone: u128, name: &str) -> Place {
        Place { zone, name: name.into() }
    }

    pub fn zone(&self) -> u128 {
        self.zone
    }

    pub fn zone_id(&self) -> String {
        id_from_value("dom_", self.zone)
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The record key of an id, or None for a string no record can have.
pub fn key(record_id: &str) -> Option<u128> {
    id_value("rec_", record_id)
}

/// One write's changes to the index: a new place, or None for a deleted record.
pub type Moves = HashMap<u128, Option<Place>>;

pub struct RecordIndex {
    places: RwLock<HashMap<u128, Place>>,
    /// Held (exclusively) by a write from its commit until its moves are applied.
    settling: RwLock<()>,
}

impl RecordIndex {
    pub fn new(places: HashMap<u128, Place>) -> Self {
        Self { places: RwLock::new(places), settling: RwLock::new(()) }
    }

    pub fn get(&self, key: u128) -> Option<Place> {
        self.places.read().unwrap_or_else(PoisonError::into_inner).get(&key).cloned()
    }

    /// Runs `begin` (a redb begin_read) while the index matches the file.
    pub fn settled<T>(&self, begin: impl FnOnce() -> T) -> T {
        let _settled = self.settling.read().unwrap_or_else(PoisonError::into_inner);
        begin()
    }

    /// Runs `commit` and applies the write's moves if it succeeds, with readers held back from
    /// `settled` until both are done.
    pub fn commit<T, E>(&self, moves: Moves, commit: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let _settling = self.settling.write().unwrap_or_else(PoisonError::into_inner);
        let committed = commit()?;
        let mut places = self.places.write().unwrap_or_else(PoisonError::into_inner);
        for (key, place) in moves {
            match place {
                Some(place) => places.insert(key, place),
                None => places.remove(&key),
            };
        }
        Ok(committed)
    }
}
