//! BIND master files in and out of a zone. Every imported record goes through the one
//! validator; a replace is all of the file or nothing.

use std::collections::HashMap;

use super::records::insert;
use super::{Actor, Diff, Error, Result, Service};
use crate::domain::auth::Scope;
use crate::domain::now;
use crate::domain::record::{self, Record, RecordData, RecordType};
use crate::domain::zonefile::{self, Refusal};
use crate::store::Read;

/// The TTL a record without one (and without `$TTL`) gets.
const DEFAULT_TTL: u32 = 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// Add what the file has and the zone lacks; keep the rest.
    Merge,
    /// Make the zone's records exactly the file's.
    Replace,
}

#[derive(Debug, Default)]
pub struct ImportReport {
    pub added: Vec<RecordData>,
    /// (before, after): the same record with another TTL.
    pub changed: Vec<(RecordData, RecordData)>,
    pub removed: Vec<RecordData>,
    pub unchanged: usize,
    pub refused: Vec<Refusal>,
    /// Lines taken with a change (a TTL brought inside the policy), and what was left out of
    /// a signed source zone.
    pub warnings: Vec<Refusal>,
    /// False for a dry run, or a replace that refused lines (then nothing was written).
    pub applied: bool,
}

impl Service {
    /// The zone as `server` sends it by AXFR, as zone-file text to import (preview first).
    /// A user may pull only from public addresses: the server must not probe its own network
    /// for them. Admins and the offline CLI, the operator's own, may pull from any.
    pub fn pull_zone(&self, actor: &Actor, zone_id: &str, server: &str, tsig: Option<&str>) -> Result<String> {
        actor.require(Scope::Read)?;
        let zone = self.store.read(|r| self.visible_zone(r, actor, zone_id))?;
        let local_allowed = actor.admin || actor.via == "cli";
        let tsig = tsig.map(str::trim).filter(|t| !t.is_empty());
        self.nameserver
            .pull(server.trim(), &zone.domain, tsig, local_allowed)
            .map_err(|e| Error::Validation(crate::domain::ValidationError::new("server", e)))
    }

    /// The zone as the nameserver serves it, as a BIND master file.
    pub fn export_zone(&self, actor: &Actor, zone_id: &str) -> Result<(String, String)> {
        let (zone, records) = self.get_zone(actor, zone_id)?;
        let (soa, apex_ns) = self.nameserver.apex(&zone.domain).ok_or(Error::NotFound("Zone"))?;
        let own_ns = records.iter().any(|r| r.data.name == "@" && r.data.rtype == RecordType::NS);
        let generated: Vec<String> = if own_ns { Vec::new() } else { apex_ns };
        let data: Vec<RecordData> = records.into_iter().map(|r| r.data).collect();
        Ok((zone.domain.clone(), zonefile::export(&zone, &soa, &generated, &data)))
    }

    pub fn import_zone(
        &self,
        actor: &Actor,
        zone_id: &str,
        text: &str,
        mode: ImportMode,
        dry_run: bool,
    ) -> Result<ImportReport> {
        actor.require(Scope::Create)?;
        if mode == ImportMode::Replace {
            actor.require(Scope::Delete)?;
        }
        let domain = self.store.read(|r| self.visible_zone(r, actor, zone_id))?.domain;
        let _one_at_a_time = self.imports.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (parsed, mut refused, mut warnings) = zonefile::parse_zone(text, &domain);
        // The file's records by owner name, so each rule check looks at one name only.
        let mut by_name: HashMap<String, Vec<RecordData>> = HashMap::new();
        let mut wanted: Vec<(usize, RecordData)> = Vec::new();
        for mut p in parsed {
            // A zone file is never refused a line for its TTL: it is brought inside the policy.
            if let Some(ttl) = p.input.ttl {
                let (inside, said) = self.ttl_policy.clamp(ttl);
                p.input.ttl = Some(inside);
                warnings.extend(said.map(|reason| Refusal { line: p.line, reason }));
            }
            let data = match record::validate_record(&domain, &p.input, DEFAULT_TTL, self.ttl_policy) {
                Ok(data) => data,
                Err(e) => {
                    refused.push(Refusal { line: p.line, reason: e.message });
                    continue;
                }
            };
            let same_name = by_name.entry(data.name.clone()).or_default();
            if same_name.iter().any(|w| w.same_rdata(&data)) {
                refused.push(Refusal { line: p.line, reason: "the same record appears earlier in the file".into() });
            } else if let Err(conflict) = record::check_coexistence(&data, same_name.iter()) {
                refused.push(Refusal { line: p.line, reason: conflict.0 });
            } else {
                same_name.push(data.clone());
                wanted.push((p.line, data));
            }
        }
        // A replace with refused lines would not be the file: it writes nothing.
        let all_or_nothing_failed = mode == ImportMode::Replace && !refused.is_empty();
        let write = !dry_run && !all_or_nothing_failed;
        if !write {
            let existing = self.store.read(|r| Ok::<_, Error>(r.records(zone_id)?))?;
            let mut report = plan(&existing, wanted, mode).0;
            report.refused.append(&mut refused);
            report.refused.sort_by_key(|r| r.line);
            report.warnings = warnings;
            return Ok(report);
        }
        self.change_zone(actor, zone_id, "zone.import", |txn, zone| {
            let existing = txn.records(&zone.id)?;
            let (mut report, removed, updated, added) = plan(&existing, wanted, mode);
            let mut diff = Diff::default();
            for old in removed.into_iter().chain(updated.iter().map(|(old, _)| old.clone())) {
                txn.delete_record(&old)?;
                diff.removed.push(old);
            }
            for (old, data) in updated {
                let record = Record { data, updated_at: now(), ..old };
                txn.put_record(&record, None)?;
                diff.added.push(record);
            }
            for data in added {
                diff.added.push(insert(txn, zone, data)?);
            }
            report.refused.append(&mut refused);
            report.refused.sort_by_key(|r| r.line);
            report.warnings = warnings;
            report.applied = true;
            Ok((report, diff))
        })
    }
}

/// What an import does to `existing`: the report, and the records to remove, to update (old,
/// new data) and to add. A merge keeps every existing record, so a line that cannot stand
/// beside them (a CNAME where other data is, or data where a CNAME is) is refused on its own.
#[allow(clippy::type_complexity)]
fn plan(
    existing: &[Record],
    wanted: Vec<(usize, RecordData)>,
    mode: ImportMode,
) -> (ImportReport, Vec<Record>, Vec<(Record, RecordData)>, Vec<RecordData>) {
    let mut report = ImportReport::default();
    let (mut updated, mut added) = (Vec::new(), Vec::new());
    let mut matched = vec![false; existing.len()];
    let mut at_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, e) in existing.iter().enumerate() {
        at_name.entry(e.data.name.as_str()).or_default().push(i);
    }
    for (line, data) in wanted {
        let found = at_name
            .get(data.name.as_str())
            .and_then(|ids| ids.iter().copied().find(|&i| existing[i].data.same_rdata(&data)));
        match found {
            Some(i) => {
                matched[i] = true;
                if existing[i].data.ttl == data.ttl {
                    report.unchanged += 1;
                } else {
                    report.changed.push((existing[i].data.clone(), data.clone()));
                    updated.push((existing[i].clone(), data));
                }
            }
            None => {
                let kept = at_name.get(data.name.as_str()).into_iter().flatten().map(|&i| &existing[i].data);
                if mode == ImportMode::Merge
                    && let Err(conflict) = record::check_coexistence(&data, kept)
                {
                    report.refused.push(Refusal { line, reason: conflict.0 });
                    continue;
                }
                report.added.push(data.clone());
                added.push(data);
            }
        }
    }
    let removed: Vec<Record> = match mode {
        ImportMode::Merge => Vec::new(),
        ImportMode::Replace => existing.iter().zip(&matched).filter(|(_, m)| !**m).map(|(e, _)| e.clone()).collect(),
    };
    report.removed = removed.iter().map(|r| r.data.clone()).collect();
    (report, removed, updated, added)
}
