//! Server settings: flags, with `NSBOX_*` environment variables as fallbacks, then defaults.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::domain::record::TtlPolicy;
use crate::service::{Limits, Quotas};

#[derive(clap::Args, Debug, Clone)]
pub struct ServeConfig {
    /// Address of the REST API (and, later, the console)
    #[arg(long, env = "NSBOX_HTTP", default_value = "127.0.0.1:8080")]
    pub http: SocketAddr,
    /// DNS listener, UDP and TCP (repeatable)
    #[arg(long = "dns", env = "NSBOX_DNS", default_value = "127.0.0.1:5353", value_delimiter = ',')]
    pub dns: Vec<SocketAddr>,
    /// Name of an authoritative server for the apex NS and SOA (repeatable; first is SOA MNAME)
    #[arg(long = "ns-name", env = "NSBOX_NS_NAME", value_delimiter = ',', default_value = "ns1.nsbox.invalid")]
    pub ns_names: Vec<String>,
    /// SOA RNAME (e.g. hostmaster@example.net); default hostmaster.<zone>
    #[arg(long, env = "NSBOX_HOSTMASTER")]
    pub hostmaster: Option<String>,
    /// Network allowed to transfer every zone by AXFR/IXFR (repeatable; default: none)
    #[arg(long = "allow-transfer", env = "NSBOX_ALLOW_TRANSFER", value_delimiter = ',')]
    pub allow_transfer: Vec<ipnet::IpNet>,
    /// Secondary to send NOTIFY to after every change, HOST:PORT (repeatable)
    #[arg(long = "notify", env = "NSBOX_NOTIFY", value_delimiter = ',')]
    pub notify: Vec<SocketAddr>,
    /// Serve a catalog zone (RFC 9432) of this name listing every zone, so secondaries
    /// configured once with it follow every zone (e.g. catalog.nsbox.invalid; default: none)
    #[arg(long, env = "NSBOX_CATALOG_ZONE")]
    pub catalog_zone: Option<String>,
    /// Networks a user may have their zones' NOTIFY sent to (repeatable; default: none, so
    /// only admins set per-zone NOTIFY targets)
    #[arg(long = "allow-notify-to", env = "NSBOX_ALLOW_NOTIFY_TO", value_delimiter = ',')]
    pub allow_notify_to: Vec<ipnet::IpNet>,
    /// Response rate limiting: UDP answers a second per client network (/24, /56) and kind
    /// of answer (0: off)
    #[arg(long, env = "NSBOX_RRL_RATE", default_value_t = crate::dns::rrl::RrlSettings::default().rate)]
    pub rrl_rate: u32,
    /// Every this-many-th limited answer goes out truncated, so real clients retry over TCP
    /// (0: none)
    #[arg(long, env = "NSBOX_RRL_SLIP", default_value_t = crate::dns::rrl::RrlSettings::default().slip)]
    pub rrl_slip: u32,
    /// Networks never rate-limited (repeatable; default: loopback)
    #[arg(long = "rrl-exempt", env = "NSBOX_RRL_EXEMPT", value_delimiter = ',', default_values_t = crate::dns::rrl::RrlSettings::default().exempt)]
    pub rrl_exempt: Vec<ipnet::IpNet>,
    /// DNS TCP connections open at once (default: 1000, or half the open-file limit if that
    /// is lower); when full, a new connection replaces the one idle longest
    #[arg(long, env = "NSBOX_TCP_MAX_CLIENTS")]
    pub tcp_max_clients: Option<usize>,
    /// DNS TCP connections one client address may hold open
    #[arg(long, env = "NSBOX_TCP_MAX_PER_CLIENT", default_value_t = crate::dns::tcp::TcpLimits::default().per_client)]
    pub tcp_max_per_client: usize,
    /// Seconds a DNS TCP connection may wait for its next query
    #[arg(long, env = "NSBOX_TCP_IDLE", default_value_t = crate::dns::tcp::TcpLimits::default().idle.as_secs())]
    pub tcp_idle: u64,
    /// Answers kept for repeated plain UDP questions, as PowerDNS's packet cache (0: off);
    /// every change to the zones makes them stale at once
    #[arg(long, env = "NSBOX_PACKET_CACHE", default_value_t = crate::dns::packet_cache::DEFAULT_ENTRIES)]
    pub packet_cache: usize,
    /// Changes kept per zone for IXFR and the zone's history; older ones go as new ones come
    #[arg(long, env = "NSBOX_JOURNAL_KEEP", default_value_t = crate::store::Retention::default().journal_per_zone)]
    pub journal_keep: usize,
    /// Other audited changes kept (zones, users, tokens, keys)
    #[arg(long, env = "NSBOX_AUDIT_KEEP", default_value_t = crate::store::Retention::default().audit)]
    pub audit_keep: u64,
    /// Seconds a ZSK signs before it is rolled (zones signed with a KSK and a ZSK)
    #[arg(long, env = "NSBOX_DNSSEC_ZSK_LIFETIME", default_value_t = crate::domain::dnssec::Policy::default().zsk_lifetime)]
    pub dnssec_zsk_lifetime: i64,
    /// Seconds each rollover step waits for caches to forget the keys and signatures before
    /// (at least the largest TTL in your zones plus propagation)
    #[arg(long, env = "NSBOX_DNSSEC_ROLLOVER_WAIT", default_value_t = crate::domain::dnssec::Policy::default().wait)]
    pub dnssec_rollover_wait: i64,
    /// DNS worker threads, each with its own UDP receive loop (one is fastest on two cores: see BENCHMARKS.md)
    #[arg(long, env = "NSBOX_DNS_THREADS", default_value_t = 1)]
    pub dns_threads: usize,
    /// Serve the console and API over HTTPS with this PEM certificate chain (needs --tls-key)
    #[arg(long, env = "NSBOX_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert
    #[arg(long, env = "NSBOX_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Bearer token /metrics requires (default: none)
    #[arg(long, env = "NSBOX_METRICS_TOKEN")]
    pub metrics_token: Option<String>,
    /// Networks allowed to read /metrics (repeatable; default: any)
    #[arg(long = "metrics-allow", env = "NSBOX_METRICS_ALLOW", value_delimiter = ',')]
    pub metrics_allow: Vec<ipnet::IpNet>,
    /// Reverse proxies whose X-Forwarded-For names the client (repeatable; default: none, so
    /// the connection's own address counts for sign-in limits)
    #[arg(long = "trusted-proxy", env = "NSBOX_TRUSTED_PROXY", value_delimiter = ',')]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Page cache of the data file, in MiB (the kernel caches the file as well; queries never
    /// read it)
    #[arg(long, env = "NSBOX_CACHE_MIB", default_value_t = 8)]
    pub cache_mib: usize,
    /// Console sessions end after this many seconds without a request
    #[arg(long, env = "NSBOX_SESSION_IDLE", default_value_t = 12 * 3600)]
    pub session_idle: u64,
    /// HTTP worker threads
    #[arg(long, env = "NSBOX_HTTP_WORKERS", default_value_t = 2)]
    pub http_workers: usize,
    /// Shortest TTL a record may have (zone files, RFC 2136 and transfers are brought up to it)
    #[arg(long, env = "NSBOX_TTL_MIN", default_value_t = TtlPolicy::default().min)]
    pub ttl_min: u32,
    /// Longest TTL a record may have (zone files, RFC 2136 and transfers are brought down to it)
    #[arg(long, env = "NSBOX_TTL_MAX", default_value_t = TtlPolicy::default().max)]
    pub ttl_max: u32,
    /// Zones one user may hold (admins: no limit)
    #[arg(long, env = "NSBOX_MAX_ZONES_PER_USER", default_value_t = Quotas::default().zones_per_user)]
    pub max_zones_per_user: u64,
    /// Records one user may hold over all their zones (admins: no limit)
    #[arg(long, env = "NSBOX_MAX_RECORDS_PER_USER", default_value_t = Quotas::default().records_per_user)]
    pub max_records_per_user: u64,
    /// Per-token record reads per minute
    #[arg(long, env = "NSBOX_RATE_READ", default_value_t = Limits::default().read)]
    pub rate_read: u32,
    /// Per-token record creations per minute
    #[arg(long, env = "NSBOX_RATE_CREATE", default_value_t = Limits::default().create)]
    pub rate_create: u32,
    /// Per-token record updates per minute
    #[arg(long, env = "NSBOX_RATE_UPDATE", default_value_t = Limits::default().update)]
    pub rate_update: u32,
    /// Per-token record deletions per minute
    #[arg(long, env = "NSBOX_RATE_DELETE", default_value_t = Limits::default().delete)]
    pub rate_delete: u32,
    /// Per-token bulk and template requests per minute
    #[arg(long, env = "NSBOX_RATE_BULK", default_value_t = Limits::default().bulk)]
    pub rate_bulk: u32,
}

impl ServeConfig {
    pub fn dns_settings(&self) -> crate::dns::Settings {
        crate::dns::Settings {
            ns_names: self.ns_names.iter().map(|n| n.trim_end_matches('.').to_ascii_lowercase()).collect(),
            hostmaster: self.hostmaster.clone(),
            allow_transfer: self.allow_transfer.clone(),
            notify: self.notify.clone(),
            rrl: crate::dns::rrl::RrlSettings {
                rate: self.rrl_rate,
                slip: self.rrl_slip,
                exempt: self.rrl_exempt.clone(),
            },
            tcp: crate::dns::tcp::TcpLimits {
                total: self.tcp_max_clients.unwrap_or_else(default_tcp_clients).max(1),
                per_client: self.tcp_max_per_client.max(1),
                idle: std::time::Duration::from_secs(self.tcp_idle.max(1)),
            },
            packet_cache: self.packet_cache,
        }
    }

    pub fn ttl_policy(&self) -> anyhow::Result<TtlPolicy> {
        anyhow::ensure!(
            self.ttl_min <= self.ttl_max,
            "--ttl-min ({}) is above --ttl-max ({})",
            self.ttl_min,
            self.ttl_max
        );
        Ok(TtlPolicy { min: self.ttl_min, max: self.ttl_max })
    }

    /// The catalog zone's name, checked like any domain.
    pub fn catalog_zone(&self) -> anyhow::Result<Option<String>> {
        let parse = |name: &String| {
            crate::domain::name::parse_domain(name).map_err(|e| anyhow::anyhow!("--catalog-zone: {}", e.message))
        };
        self.catalog_zone.as_ref().map(parse).transpose()
    }

    pub fn retention(&self) -> crate::store::Retention {
        crate::store::Retention { journal_per_zone: self.journal_keep.max(1), audit: self.audit_keep.max(1) }
    }

    pub fn dnssec_policy(&self) -> crate::domain::dnssec::Policy {
        crate::domain::dnssec::Policy {
            zsk_lifetime: self.dnssec_zsk_lifetime.max(1),
            wait: self.dnssec_rollover_wait.max(1),
        }
    }

    pub fn quotas(&self) -> Quotas {
        Quotas { zones_per_user: self.max_zones_per_user, records_per_user: self.max_records_per_user }
    }

    pub fn limits(&self) -> Limits {
        Limits {
            read: self.rate_read,
            create: self.rate_create,
            update: self.rate_update,
            delete: self.rate_delete,
            bulk: self.rate_bulk,
        }
    }
}

impl Default for ServeConfig {
    fn default() -> Self {
        let limits = Limits::default();
        Self {
            http: SocketAddr::from(([127, 0, 0, 1], 8080)),
            dns: vec![SocketAddr::from(([127, 0, 0, 1], 5353))],
            ns_names: vec!["ns1.nsbox.invalid".into()],
            hostmaster: None,
            allow_transfer: Vec::new(),
            notify: Vec::new(),
            allow_notify_to: Vec::new(),
            catalog_zone: None,
            rrl_rate: crate::dns::rrl::RrlSettings::default().rate,
            rrl_slip: crate::dns::rrl::RrlSettings::default().slip,
            rrl_exempt: crate::dns::rrl::RrlSettings::default().exempt,
            tcp_max_clients: None,
            tcp_max_per_client: crate::dns::tcp::TcpLimits::default().per_client,
            tcp_idle: crate::dns::tcp::TcpLimits::default().idle.as_secs(),
            packet_cache: crate::dns::packet_cache::DEFAULT_ENTRIES,
            journal_keep: crate::store::Retention::default().journal_per_zone,
            audit_keep: crate::store::Retention::default().audit,
            dnssec_zsk_lifetime: crate::domain::dnssec::Policy::default().zsk_lifetime,
            dnssec_rollover_wait: crate::domain::dnssec::Policy::default().wait,
            dns_threads: 1,
            http_workers: 2,
            session_idle: 12 * 3600,
            cache_mib: 8,
            tls_cert: None,
            tls_key: None,
            metrics_token: None,
            metrics_allow: Vec::new(),
            trusted_proxies: Vec::new(),
            ttl_min: TtlPolicy::default().min,
            ttl_max: TtlPolicy::default().max,
            max_zones_per_user: Quotas::default().zones_per_user,
            max_records_per_user: Quotas::default().records_per_user,
            rate_read: limits.read,
            rate_create: limits.create,
            rate_update: limits.update,
            rate_delete: limits.delete,
            rate_bulk: limits.bulk,
        }
    }
}

/// Where the data file is: `--data`, then `NSBOX_DATA`, then `./nsbox.redb`.
#[derive(clap::Args, Debug, Clone)]
pub struct DataArg {
    /// The redb data file
    #[arg(long = "data", env = "NSBOX_DATA", default_value = "nsbox.redb", global = true)]
    pub path: PathBuf,
}

/// Settings from a TOML file (`--config FILE` or `NSBOX_CONFIG`), as command-line flags added
/// after the user's own: a flag given on the command line or an `NSBOX_*` variable wins over
/// the file, so the precedence is flag > environment > file > default. Keys are the long flag
/// names (`http`, `dns`, `ns-name` or `ns_name`, …); unknown keys are an error.
pub fn with_config_file(
    args: Vec<std::ffi::OsString>,
    command: &clap::Command,
) -> anyhow::Result<Vec<std::ffi::OsString>> {
    let Some(path) = config_path(&args) else { return Ok(args) };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("cannot read the config file {}: {e}", path.display()))?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let known = known_settings(command);
    let mut out = args;
    for (key, value) in table {
        let flag = key.replace('_', "-");
        let Some((_, env)) = known.iter().find(|(long, _)| *long == flag) else {
            let names: Vec<&str> = known.iter().map(|(l, _)| l.as_str()).collect();
            anyhow::bail!("{}: unknown setting '{key}' (known: {})", path.display(), names.join(", "));
        };
        let given_as_flag = out
            .iter()
            .any(|a| a.to_str().is_some_and(|a| a == format!("--{flag}") || a.starts_with(&format!("--{flag}="))));
        let given_in_env = env.as_ref().is_some_and(|e| std::env::var_os(e).is_some());
        if given_as_flag || given_in_env {
            continue;
        }
        let values = match value {
            toml::Value::Array(items) => items.iter().map(toml_text).collect::<anyhow::Result<Vec<_>>>()?,
            other => vec![toml_text(&other)?],
        };
        for v in values {
            out.push(format!("--{flag}").into());
            out.push(v.into());
        }
    }
    Ok(out)
}

fn toml_text(value: &toml::Value) -> anyhow::Result<String> {
    Ok(match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        other => anyhow::bail!("unsupported value {other}"),
    })
}

fn config_path(args: &[std::ffi::OsString]) -> Option<PathBuf> {
    let mut iter = args.iter().filter_map(|a| a.to_str());
    while let Some(arg) = iter.next() {
        if arg == "--config" {
            return iter.next().map(PathBuf::from);
        }
        if let Some(p) = arg.strip_prefix("--config=") {
            return Some(PathBuf::from(p));
        }
    }
    std::env::var_os("NSBOX_CONFIG").map(PathBuf::from)
}

/// (long flag, environment variable) of every `serve` setting and the global ones.
fn known_settings(command: &clap::Command) -> Vec<(String, Option<String>)> {
    let serve = command.find_subcommand("serve");
    command
        .get_arguments()
        .chain(serve.into_iter().flat_map(|s| s.get_arguments()))
        .filter_map(|a| Some((a.get_long()?.to_string(), a.get_env().and_then(|e| e.to_str()).map(String::from))))
        .filter(|(long, _)| long != "config" && long != "help" && long != "version")
        .collect()
}

/// `NSBOX_*` variables nsbox does not know: most likely typos, reported at start.
pub fn unknown_environment(command: &clap::Command) -> Vec<String> {
    let mut known: Vec<String> = known_settings(command).into_iter().filter_map(|(_, e)| e).collect();
    known.extend(["NSBOX_CONFIG", "NSBOX_PASSWORD", "NSBOX_ADMIN_PASSWORD"].map(String::from));
    std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| k.starts_with("NSBOX_") && !known.contains(k))
        .collect()
}

/// TCP connections the nameserver holds at most by default: 1000, or half the descriptors
/// the process may open, so idle connections can never take the ones it needs for anything
/// else.
fn default_tcp_clients() -> usize {
    let limit = crate::dns::tcp::open_file_limit().map_or(usize::MAX, |n| n / 2);
    crate::dns::tcp::TcpLimits::default().total.min(limit)
}
