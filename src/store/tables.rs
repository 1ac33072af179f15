//! redb table definitions. Values are JSON-encoded domain types; keys as noted.

use redb::{MultimapTableDefinition, TableDefinition};

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
/// (zone id, record id) → Record. Record ids sort by creation, so a zone lists in that order.
pub const RECORDS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("records");
/// record id → zone id, for the dialects' direct record routes.
pub const RECORD_ZONE: TableDefinition<&str, &str> = TableDefinition::new("record_zone");
/// (zone id, relative name) → record ids: the rule checks (CNAME alone, duplicates) read this.
pub const RECORD_NAMES: MultimapTableDefinition<(&str, &str), &str> = MultimapTableDefinition::new("record_names");
/// (zone id, serial) → JournalEntry: the change that produced that serial (IXFR, history).
pub const JOURNAL: TableDefinition<(&str, u32), &[u8]> = TableDefinition::new("journal");
/// key name → TsigKey (schema 2).
pub const TSIG_KEYS: TableDefinition<&str, &[u8]> = TableDefinition::new("tsig_keys");
/// sequence number → AuditEntry.
pub const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit");
