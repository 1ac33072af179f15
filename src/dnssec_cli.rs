//! `nsbox zone dnssec …`: signing and key rollovers from the command line, offline.

use clap::Subcommand;
use nsbox::domain::dnssec::word;

#[derive(Subcommand)]
pub enum DnssecCommand {
    /// Sign the zone with a new key
    Enable {
        domain: String,
        /// ecdsap256sha256 or ed25519
        #[arg(long, default_value = "ecdsap256sha256")]
        algorithm: String,
        /// nsec or nsec3
        #[arg(long, default_value = "nsec")]
        denial: String,
        /// A KSK and a ZSK (rolled automatically) instead of one CSK
        #[arg(long)]
        split: bool,
    },
    /// Start a KSK/CSK rollover (the new key signs beside the old one)
    Rollover {
        domain: String,
        /// Move to this algorithm
        #[arg(long)]
        algorithm: Option<String>,
    },
    /// Confirm the parent has the new key's DS: the old keys retire
    ConfirmDs { domain: String },
    /// Publish CDS/CDNSKEY delete records; with --force, stop signing now
    Disable {
        domain: String,
        #[arg(long)]
        force: bool,
    },
    /// Print the state, the keys and the DS records for the registrar
    Status { domain: String },
}

pub fn run(service: &nsbox::service::Service, command: DnssecCommand) -> anyhow::Result<()> {
    use nsbox::domain::dnssec::{Algorithm, Denial};
    let domain = match &command {
        DnssecCommand::Enable { domain, .. }
        | DnssecCommand::Disable { domain, .. }
        | DnssecCommand::Rollover { domain, .. }
        | DnssecCommand::ConfirmDs { domain }
        | DnssecCommand::Status { domain } => domain.clone(),
    };
    let (id, actor) = service.zone_owner(&domain)?;
    service.publish_all()?;
    let zone = match command {
        DnssecCommand::Enable { algorithm, denial, split, .. } => {
            let (algorithm, denial) = (Algorithm::parse(&algorithm)?, Denial::parse(&denial)?);
            service.enable_dnssec(&actor, &id, algorithm, denial, split)?.0
        }
        DnssecCommand::Rollover { algorithm, .. } => {
            service.rollover_dnssec(&actor, &id, algorithm.as_deref().map(Algorithm::parse).transpose()?)?
        }
        DnssecCommand::ConfirmDs { .. } => service.confirm_ds(&actor, &id)?,
        DnssecCommand::Disable { force, .. } => service.disable_dnssec(&actor, &id, force)?,
        DnssecCommand::Status { .. } => service.dnssec(&actor, &id)?,
    };
    let Some(dnssec) = &zone.dnssec else {
        println!("{}: unsigned", zone.domain);
        return Ok(());
    };
    println!("{}: {}, {}, {}", zone.domain, word(&dnssec.phase), word(&dnssec.algorithm), word(&dnssec.denial));
    for key in &dnssec.keys {
        let (role, state) = (word(&key.role), word(&key.state));
        println!("{}. DNSKEY {} ; key tag {}, {role}, {state}", zone.domain, key.dnskey_text(), key.tag());
        if key.wants_ds() {
            println!("{}. DS {}", zone.domain, key.ds_text(&zone.domain));
        }
    }
    Ok(())
}
