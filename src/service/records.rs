//! Records: list, read, create (one, bulk, from a template), update, delete.

use std::collections::HashMap;

use super::{Actor, Diff, Error, Result, Service};
use crate::domain::auth::Scope;
use crate::domain::record::{self, Record, RecordData, RecordInput, RecordType};
use crate::domain::zone::Zone;
use crate::domain::{ValidationError, new_id, now};
use crate::store::{Read, Txn};

/// A change to a record. Patch: fields left None keep their stored value. Replace (VPS.org
/// PUT): the fields given are the whole record.
#[derive(Debug, Clone, Default)]
pub struct RecordChange {
    pub replace: bool,
    pub rtype: Option<String>,
    pub name: Option<String>,
    pub content: Option<String>,
    pub ttl: Option<i64>,
    pub priority: Option<i64>,
}

impl RecordChange {
    fn applied_to(self, stored: &RecordData) -> RecordInput {
        if self.replace {
            return RecordInput {
                rtype: self.rtype,
                name: self.name,
                content: self.content,
                ttl: self.ttl,
                priority: self.priority,
            };
        }
        let stored = stored.to_input();
        let rtype = self.rtype.or(stored.rtype);
        let priority = match (self.priority, &self.content) {
            (Some(p), _) => Some(p),
            // New content that carries its own priority (`10 60 5060 sip…`) replaces the stored one.
            (None, Some(content)) if record::content_carries_priority(rtype.as_deref(), content) => None,
            (None, _) => stored.priority,
        };
        RecordInput {
            rtype,
            name: self.name.or(stored.name),
            content: self.content.or(stored.content),
            ttl: self.ttl.or(stored.ttl),
            priority,
        }
    }
}

/// One refused record of a bulk request, echoed as it was sent.
#[derive(Debug, Clone)]
pub struct BulkError {
    pub record: serde_json::Value,
    pub error: ValidationError,
}

impl Service {
    /// Records across the actor's zones, optionally of one zone and/or one type.
    pub fn search_records(
        &self,
        actor: &Actor,
        zone_id: Option<&str>,
        rtype: Option<RecordType>,
    ) -> Result<Vec<Record>> {
        actor.require(Scope::Read)?;
        self.store.read(|r| {
            let zones = match zone_id {
                Some(id) => vec![self.visible_zone(r, actor, id)?],
                None => r.zones()?.into_iter().filter(|z| actor.sees(z)).collect(),
            };
            let mut out = Vec::new();
            for zone in zones {
                out.extend(r.records(&zone.id)?.into_iter().filter(|rec| rtype.is_none_or(|t| rec.data.rtype == t)));
            }
            Ok(out)
        })
    }

    pub fn get_record(&self, actor: &Actor, record_id: &str) -> Result<Record> {
        actor.require(Scope::Read)?;
        self.store.read(|r| {
            let record = r.record(record_id)?.ok_or(Error::NotFound("Record"))?;
            // Another user's record is no record at all, in the same words.
            self.visible_zone(r, actor, &record.zone_id).map_err(|_| Error::NotFound("Record"))?;
            Ok(record)
        })
    }

    pub fn create_record(&self, actor: &Actor, zone_id: &str, input: &RecordInput, default_ttl: u32) -> Result<Record> {
        actor.require(Scope::Create)?;
        self.change_zone(actor, zone_id, "record.create", |txn, zone| {
            let data = record::validate_record(&zone.domain, input, default_ttl, self.ttl_policy)?;
            let created = insert(txn, zone, data)?;
            Ok((created.clone(), Diff { added: vec![created], ..Diff::default() }))
        })
    }

    /// Validates and creates each record on its own: the valid ones are created (in one
    /// transaction), the others come back with their error.
    pub fn bulk_create(
        &self,
        actor: &Actor,
        zone_id: &str,
        inputs: Vec<(serde_json::Value, RecordInput)>,
        default_ttl: u32,
    ) -> Result<(Vec<Record>, Vec<BulkError>)> {
        actor.require(Scope::Create)?;
        self.change_zone(actor, zone_id, "record.bulk_create", |txn, zone| {
            let mut created: Vec<Record> = Vec::new();
            let mut errors = Vec::new();
            for (raw, input) in inputs {
                let outcome = record::validate_record(&zone.domain, &input, default_ttl, self.ttl_policy)
                    .map_err(Error::from)
                    .and_then(|data| insert(txn, zone, data));
                match outcome {
                    Ok(record) => created.push(record),
                    Err(Error::Validation(error)) => errors.push(BulkError { record: raw, error }),
                    Err(Error::Conflict(message)) => {
                        errors.push(BulkError { record: raw, error: conflict_as_field_error(message) })
                    }
                    Err(other) => return Err(other),
                }
            }
            let diff = Diff { added: created.clone(), ..Diff::default() };
            Ok(((created, errors), diff))
        })
    }

    /// Applies a template with its variables: all of its records or none.
    pub fn apply_template(
        &self,
        actor: &Actor,
        zone_id: &str,
        template_id: &str,
        variables: &HashMap<String, String>,
        default_ttl: u32,
    ) -> Result<Vec<Record>> {
        actor.require(Scope::Create)?;
        let inputs = self.templates.render(template_id, variables)?;
        self.change_zone(actor, zone_id, "template.apply", |txn, zone| {
            let mut created: Vec<Record> = Vec::new();
            for input in &inputs {
                let data = record::validate_record(&zone.domain, input, default_ttl, self.ttl_policy)?;
                created.push(insert(txn, zone, data)?);
            }
            Ok((created.clone(), Diff { added: created, ..Diff::default() }))
        })
    }

    /// The records a template would create here, validated, without creating them.
    pub fn preview_template(
        &self,
        actor: &Actor,
        zone_id: &str,
        template_id: &str,
        variables: &HashMap<String, String>,
        default_ttl: u32,
    ) -> Result<Vec<RecordData>> {
        actor.require(Scope::Create)?;
        let inputs = self.templates.render(template_id, variables)?;
        let zone = self.store.read(|r| self.visible_zone(r, actor, zone_id))?;
        Ok(inputs
            .iter()
            .map(|input| record::validate_record(&zone.domain, input, default_ttl, self.ttl_policy))
            .collect::<Result<_, _>>()?)
    }

    /// Changes a record. `zone_id`, when the route names one, must be the record's zone.
    pub fn update_record(
        &self,
        actor: &Actor,
        zone_id: Option<&str>,
        record_id: &str,
        change: RecordChange,
        default_ttl: u32,
    ) -> Result<Record> {
        actor.require(Scope::Update)?;
        let zone_of_record = self.zone_of_record(actor, zone_id, record_id)?;
        self.change_zone(actor, &zone_of_record, "record.update", |txn, zone| {
            let old = txn.record(record_id)?.filter(|r| r.zone_id == zone.id).ok_or(Error::NotFound("Record"))?;
            let input = change.applied_to(&old.data);
            let data = record::validate_record(&zone.domain, &input, default_ttl, self.ttl_policy)?;
            let neighbours: Vec<Record> =
                txn.records_named(&zone.id, &data.name)?.into_iter().filter(|r| r.id != old.id).collect();
            record::check_coexistence(&data, neighbours.iter().map(|r| &r.data)).map_err(|c| Error::Conflict(c.0))?;
            let updated = Record { data, updated_at: now(), ..old.clone() };
            if updated.data == old.data {
                return Ok((old, Diff::default()));
            }
            txn.put_record(&updated, Some(&old))?;
            Ok((updated.clone(), Diff { removed: vec![old], added: vec![updated] }))
        })
    }

    pub fn delete_record(&self, actor: &Actor, zone_id: Option<&str>, record_id: &str) -> Result<()> {
        actor.require(Scope::Delete)?;
        let zone_of_record = self.zone_of_record(actor, zone_id, record_id)?;
        self.change_zone(actor, &zone_of_record, "record.delete", |txn, zone| {
            let old = txn.record(record_id)?.filter(|r| r.zone_id == zone.id).ok_or(Error::NotFound("Record"))?;
            txn.delete_record(&old)?;
            Ok(((), Diff { removed: vec![old], ..Diff::default() }))
        })
    }

    /// The zone of a record the actor may see; another user's record is no record at all,
    /// in the same words.
    fn zone_of_record(&self, actor: &Actor, zone_id: Option<&str>, record_id: &str) -> Result<String> {
        self.store.read(|r| {
            let record = r.record(record_id)?.ok_or(Error::NotFound("Record"))?;
            let visible = self.visible_zone(r, actor, &record.zone_id).is_ok();
            match zone_id {
                Some(expected) if expected != record.zone_id => Err(Error::NotFound("Record")),
                _ if !visible => Err(Error::NotFound("Record")),
                _ => Ok(record.zone_id),
            }
        })
    }
}

/// Stores a new record after the rule checks against the records at its name (including
/// those this transaction already added).
pub(super) fn insert(txn: &mut Txn, zone: &Zone, data: RecordData) -> Result<Record> {
    let neighbours = txn.records_named(&zone.id, &data.name)?;
    record::check_coexistence(&data, neighbours.iter().map(|r| &r.data)).map_err(|c| Error::Conflict(c.0))?;
    let at = now();
    let record = Record { id: new_id("rec_"), zone_id: zone.id.clone(), data, created_at: at, updated_at: at };
    txn.put_record(&record, None)?;
    Ok(record)
}

fn conflict_as_field_error(message: String) -> ValidationError {
    ValidationError { field: Some("name".into()), code: "conflict", message }
}
