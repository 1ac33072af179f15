//! Parse the command line and hand over to `app` (serve) or `service` (offline commands).

use std::io::Write;

use anyhow::Context;
use clap::{Parser, Subcommand};
use nsbox::config::{DataArg, ServeConfig};
use nsbox::domain::auth::{Scope, TokenStyle};
use nsbox::domain::iso8601;
use nsbox::service::{Actor, NewToken};

mod dnssec_cli;

/// The DNS hot path allocates per query; mimalloc is markedly faster at that than the system
/// allocator (and than musl's, for the static build).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "nsbox",
    version,
    about = "Self-hosted DNS appliance: REST API, console and authoritative nameserver in one binary"
)]
struct Cli {
    #[command(flatten)]
    data: DataArg,
    /// Log lines as text for people or JSON for collectors
    #[arg(long, env = "NSBOX_LOG_FORMAT", global = true, default_value = "human", value_parser = ["human", "json"])]
    log_format: String,
    /// TOML file with settings (keys are the long flag names); flags and NSBOX_* win over it
    #[arg(long, env = "NSBOX_CONFIG", global = true)]
    config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API and the nameserver
    Serve(Box<ServeConfig>),
    /// Manage users (offline: the server must not be running)
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens (offline: the server must not be running)
    #[command(subcommand)]
    Token(TokenCommand),
    /// Check the configuration (flags, NSBOX_* and the --config file) and print it
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Probe a running nsbox over HTTP and DNS; exits non-zero if either fails
    Healthcheck {
        #[arg(long, default_value = "127.0.0.1:8080")]
        http: std::net::SocketAddr,
        #[arg(long, default_value = "127.0.0.1:5353")]
        dns: std::net::SocketAddr,
    },
    /// Write a consistent copy of the data file to OUT (also while the server runs)
    Backup { out: std::path::PathBuf },
    /// Replace the data file with a backup (the server must be stopped)
    Restore {
        backup: std::path::PathBuf,
        /// Replace an existing data file
        #[arg(long)]
        force: bool,
    },
    /// Zone files (offline: the server must not be running)
    #[command(subcommand)]
    Zone(ZoneCommand),
    /// Manage TSIG keys for zone transfers (offline: the server must not be running)
    #[command(subcommand)]
    Tsig(TsigCommand),
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate the serve settings and print the result
    Check,
}

#[derive(Subcommand)]
enum ZoneCommand {
    /// Create a zone owned by a user
    Create {
        domain: String,
        #[arg(long)]
        user: String,
    },
    /// Print a zone as a BIND master file
    Export { domain: String },
    /// Import a BIND master file, or the zone as another server sends it (--from-axfr), into
    /// a zone (merging unless --replace)
    Import {
        domain: String,
        /// The zone file (not with --from-axfr)
        file: Option<std::path::PathBuf>,
        /// Pull the zone from this server by AXFR (HOST:PORT)
        #[arg(long, conflicts_with = "file")]
        from_axfr: Option<String>,
        /// Sign the transfer: NAME:ALGORITHM:BASE64-SECRET
        #[arg(long, requires = "from_axfr")]
        tsig: Option<String>,
        #[arg(long)]
        replace: bool,
        #[arg(long)]
        dry_run: bool,
    },
    /// Sign a zone (enable), go insecure (disable), or show its keys and the DS (status)
    Dnssec {
        #[command(subcommand)]
        command: dnssec_cli::DnssecCommand,
    },
}

#[derive(Subcommand)]
enum TsigCommand {
    /// Create a key and print it as a BIND `key` clause
    Add {
        name: String,
        #[arg(long, default_value = "hmac-sha256")]
        algorithm: String,
        /// Limit the key to this zone (repeatable)
        #[arg(long = "zone")]
        zones: Vec<String>,
    },
    /// List keys (never their secrets)
    List,
    /// Delete a key
    Remove { name: String },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; prints a generated password unless NSBOX_PASSWORD is set
    Add {
        name: String,
        #[arg(long)]
        admin: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token and print it (only it) on stdout
    Create {
        #[arg(long)]
        user: String,
        #[arg(long)]
        name: String,
        /// dns:list, dns:read, dns:create, dns:update, dns:delete (repeatable; default all)
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Limit the token to this zone (repeatable)
        #[arg(long = "zone")]
        zones: Vec<String>,
        /// Let the token change only this name's records, e.g. for dynamic DNS (repeatable)
        #[arg(long = "name-only")]
        names: Vec<String>,
        #[arg(long, default_value = "vps")]
        style: String,
    },
    /// List tokens (never their secrets)
    List,
    /// Revoke a token by id (tok_…)
    Revoke { id: String },
}

fn main() -> anyhow::Result<()> {
    let command = <Cli as clap::CommandFactory>::command();
    for name in nsbox::config::unknown_environment(&command) {
        eprintln!("warning: unknown environment variable {name} (see nsbox serve --help)");
    }
    let raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `config check` parses exactly what `serve` would run with.
    let checking = config_check_position(&raw);
    let raw = match checking {
        Some(at) => [&raw[..at], &["serve".into()], &raw[at + 2..]].concat(),
        None => raw,
    };
    let args = nsbox::config::with_config_file(raw, &command)?;
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    init_logging(&cli.log_format);
    if checking.is_some()
        && let Command::Serve(config) = &cli.command
    {
        println!("data = {:?}\n{config:#?}\nconfiguration OK", cli.data.path);
        return Ok(());
    }
    match cli.command {
        Command::Serve(config) => serve(&cli.data, *config),
        Command::User(command) => user(&cli.data, command),
        Command::Token(command) => token(&cli.data, command),
        Command::Tsig(command) => tsig(&cli.data, command),
        Command::Zone(command) => zone(&cli.data, command),
        Command::Backup { out } => {
            match nsbox::store::backup(&cli.data.path, &out) {
                // The server has the file: it takes the copy itself.
                Err(nsbox::store::StoreError::AlreadyOpen(_)) => nsbox::control::request_backup(&cli.data.path, &out)?,
                other => other?,
            }
            eprintln!("backed up {} to {}", cli.data.path.display(), out.display());
            Ok(())
        }
        Command::Restore { backup, force } => restore(&cli.data.path, &backup, force),
        // Answered above: `config check` is parsed as the serve settings it checks.
        Command::Config(ConfigCommand::Check) => Ok(()),
        Command::Healthcheck { http, dns } => healthcheck(http, dns),
    }
}

fn serve(data: &DataArg, config: ServeConfig) -> anyhow::Result<()> {
    let core = nsbox::app::open_service(&data.path, &config)?;
    let given = std::env::var("NSBOX_ADMIN_PASSWORD").ok();
    let show = given.is_none();
    if let Some(password) = core.service.bootstrap_admin(given)?
        && show
    {
        println!("Created user 'admin' with password: {password}\nThis password is shown only once.");
    }
    let listeners = nsbox::app::Listeners::bind(&config, &data.path)?;
    let handle = nsbox::app::start(core, &config, listeners)?;
    tracing::info!(http = %handle.http_addr, data = %data.path.display(), "nsbox is serving");
    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(nsbox::app::shutdown_signal());
    tracing::info!("shutting down");
    handle.stop()
}

fn offline(data: &DataArg) -> anyhow::Result<std::sync::Arc<nsbox::service::Service>> {
    nsbox::app::open_service(&data.path, &ServeConfig::default())
        .map(|core| core.service)
        .with_context(|| format!("cannot open {}", data.path.display()))
}

fn user(data: &DataArg, command: UserCommand) -> anyhow::Result<()> {
    let service = offline(data)?;
    match command {
        UserCommand::Add { name, admin } => {
            let given = std::env::var("NSBOX_PASSWORD").ok();
            let show = given.is_none();
            let (user, password) = service.create_user(&Actor::system("cli"), &name, given, admin)?;
            if show {
                println!("{password}");
            }
            eprintln!("created user {} ({})", user.username, user.id);
        }
    }
    Ok(())
}

fn token(data: &DataArg, command: TokenCommand) -> anyhow::Result<()> {
    let service = offline(data)?;
    match command {
        TokenCommand::Create { user, name, scopes, zones, names, style } => {
            let owner = service.find_user(&user)?;
            let new = NewToken {
                label: name,
                style: style.parse::<TokenStyle>()?,
                scopes: scopes.iter().map(|s| s.parse::<Scope>()).collect::<Result<_, _>>()?,
                zones,
                names,
                user_id: None,
            };
            let (_, secret) = service.create_token(&Actor::user(&owner, "cli"), new)?;
            println!("{secret}");
        }
        TokenCommand::List => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{:<20} {:<24} {:<16} {:<22} {:<8} SCOPES", "ID", "PREFIX", "NAME", "CREATED", "REVOKED")?;
            for t in service.list_tokens(&Actor::system("cli"), true)? {
                let scopes: Vec<&str> = t.scopes.iter().map(|s| s.as_str()).collect();
                writeln!(
                    out,
                    "{:<20} {:<24} {:<16} {:<22} {:<8} {}",
                    t.id,
                    t.display_prefix(),
                    t.label,
                    iso8601(t.created_at),
                    t.revoked,
                    scopes.join(",")
                )?;
            }
        }
        TokenCommand::Revoke { id } => {
            service.revoke_token(&Actor::system("cli"), &id)?;
            eprintln!("revoked {id}");
        }
    }
    Ok(())
}

fn tsig(data: &DataArg, command: TsigCommand) -> anyhow::Result<()> {
    let service = offline(data)?;
    let cli = Actor::system("cli");
    match command {
        TsigCommand::Add { name, algorithm, zones } => {
            let key = service.create_tsig_key(&cli, &name, algorithm.parse()?, &zones)?;
            println!(
                "key \"{}\" {{\n    algorithm {};\n    secret \"{}\";\n}};",
                key.name,
                key.algorithm.as_str(),
                key.secret
            );
        }
        TsigCommand::List => {
            for key in service.list_tsig_keys(&cli)? {
                let zones = if key.zones.is_empty() { "*".to_string() } else { key.zones.join(",") };
                println!("{:<32} {:<12} {}", key.name, key.algorithm.as_str(), zones);
            }
        }
        TsigCommand::Remove { name } => {
            service.delete_tsig_key(&cli, &name)?;
            eprintln!("removed {name}");
        }
    }
    Ok(())
}

fn zone(data: &DataArg, command: ZoneCommand) -> anyhow::Result<()> {
    let service = offline(data)?;
    match command {
        ZoneCommand::Export { domain } => {
            let (id, actor) = service.zone_owner(&domain)?;
            // Offline, nothing is served: build the snapshot the server would serve.
            service.publish_all()?;
            print!("{}", service.export_zone(&actor, &id)?.1);
        }
        ZoneCommand::Dnssec { command } => dnssec_cli::run(&service, command)?,
        ZoneCommand::Create { domain, user } => {
            let owner = service.find_user(&user)?;
            let zone = service.create_zone(&nsbox::service::Actor::user(&owner, "cli"), &domain)?;
            println!("{}", zone.id);
        }
        ZoneCommand::Import { domain, file, from_axfr, tsig, replace, dry_run } => {
            let (id, actor) = service.zone_owner(&domain)?;
            let text = match (file, from_axfr) {
                (Some(file), _) => {
                    std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?
                }
                (None, Some(server)) => service.pull_zone(&actor, &id, &server, tsig.as_deref())?,
                (None, None) => anyhow::bail!("give a zone file or --from-axfr HOST:PORT"),
            };
            service.publish_all()?;
            let mode = if replace { nsbox::service::ImportMode::Replace } else { nsbox::service::ImportMode::Merge };
            let report = service.import_zone(&actor, &id, &text, mode, dry_run)?;
            for r in &report.refused {
                eprintln!("line {}: {}", r.line, r.reason);
            }
            for w in &report.warnings {
                eprintln!("line {}: warning: {}", w.line, w.reason);
            }
            println!(
                "{}: {} added, {} changed, {} removed, {} unchanged, {} refused",
                if report.applied { "imported" } else { "not imported" },
                report.added.len(),
                report.changed.len(),
                report.removed.len(),
                report.unchanged,
                report.refused.len()
            );
            if !report.applied && !dry_run {
                anyhow::bail!("nothing was imported");
            }
        }
    }
    Ok(())
}

/// Where `config check` stands among the arguments, if it was asked for.
fn config_check_position(args: &[std::ffi::OsString]) -> Option<usize> {
    args.windows(2).position(|w| w[0] == "config" && w[1] == "check")
}

/// HTTP: GET /readyz must answer 200. DNS: a query must get an answer (any RCODE).
fn healthcheck(http: std::net::SocketAddr, dns: std::net::SocketAddr) -> anyhow::Result<()> {
    use std::io::{Read, Write};
    let timeout = std::time::Duration::from_secs(3);
    let mut stream = std::net::TcpStream::connect_timeout(&http, timeout)
        .with_context(|| format!("HTTP {http} is not answering"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.write_all(format!("GET /readyz HTTP/1.0\r\nHost: {http}\r\n\r\n").as_bytes())?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let status = answer.split_whitespace().nth(1).unwrap_or_default().to_string();
    anyhow::ensure!(status == "200", "HTTP {http}/readyz answered {status}");
    let socket = std::net::UdpSocket::bind(if dns.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" })?;
    socket.set_read_timeout(Some(timeout))?;
    // A query for the root's SOA: any answer (REFUSED included) proves the nameserver runs.
    let query = [0x4e, 0x53, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1];
    socket.send_to(&query, dns)?;
    let mut buffer = [0u8; 512];
    let (len, _) = socket.recv_from(&mut buffer).with_context(|| format!("DNS {dns} is not answering"))?;
    anyhow::ensure!(len >= 12 && buffer[..2] == query[..2], "DNS {dns} answered nonsense");
    println!("healthy: HTTP {http} ready, DNS {dns} answering");
    Ok(())
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,hickory_server=warn,hickory_proto=warn".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Checks the backup by opening a copy of it, then puts it in place in one rename.
fn restore(data: &std::path::Path, backup: &std::path::Path, force: bool) -> anyhow::Result<()> {
    if data.exists() {
        anyhow::ensure!(force, "{} exists: add --force to replace it", data.display());
    }
    nsbox::store::restore(backup, data)?;
    eprintln!("restored {} from {}", data.display(), backup.display());
    Ok(())
}
