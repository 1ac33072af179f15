//! redb table definitions. Values are JSON-encoded domain types, but records and journal
//! entries (`codec`); keys as noted.

use redb::TableDefinition;

/// schema_version, server_id, created_at.
pub const META: TableDefinition<&str, &str> = TableDefinition::new("meta");
/// user id → User.
pub const USERS: TableDefinition<&str, &[u8]> = TableDefinition::new("users");
/// username → user id.
pub const USERNAMES: TableDefinition<&str, &str> = TableDefinition::new("usernames");
/// token id → Token.
pub const TOKENS: TableDefinition<&str, &[u8]> = TableDefinition::new("tokens");
/// zone id → Zone.
pub const ZONES: TableDefinition<&str, &[u8]> = TableDefinition::new("zones");
/// domain → zone id (a domain exists once on a server).
pub const ZONE_DOMAINS: TableDefinition<&str, &str> = TableDefinition::new("zone_domains");
/// (zone id, relative name, record id) → Record (`codec`): a name's records are one range, the
/// rule checks (CNAME alone, duplicates) read it; a zone lists by sorting its range by record
/// id. Ids are the numbers they spell (`domain::id_value`), 16 bytes each with no length.
/// Lookups by id alone go through the in-memory `record_index`.
pub const RECORDS: TableDefinition<(u128, &str, u128), &[u8]> = TableDefinition::new("records_by_name");
/// (zone id, serial) → JournalEntry: the change that produced that serial (IXFR), and who made
/// it (the history of record changes).
pub const JOURNAL: TableDefinition<(&str, u32), &[u8]> = TableDefinition::new("journal");
/// key name → TsigKey (schema 2).
pub const TSIG_KEYS: TableDefinition<&str, &[u8]> = TableDefinition::new("tsig_keys");
/// sequence number → AuditEntry: every change that is not a zone's records (zones, users,
/// tokens, keys).
pub const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit");
/// zone id → Dnssec: the zone's signing settings and keys (private keys never leave the file).
pub const DNSSEC: TableDefinition<&str, &[u8]> = TableDefinition::new("dnssec");
