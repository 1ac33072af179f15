//! Composition root: open the store, bind listeners, run the servers, shut down.
//! `start` takes listeners already bound, so tests bind port 0 and read the real address.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;

use actix_web::{HttpServer, web};
use anyhow::Context;

use crate::config::ServeConfig;
use crate::dns;
use crate::service::Service;
use crate::store::Store;

pub struct Listeners {
    pub http: TcpListener,
    pub dns: Vec<dns::Listener>,
    /// `nsbox backup`'s way in while the server holds the data file (see `control`).
    pub control: Option<std::os::unix::net::UnixListener>,
}

impl Listeners {
    /// Binds every listener of `config`, and the control socket beside the data file.
    pub fn bind(config: &ServeConfig, data: &Path) -> anyhow::Result<Self> {
        let http =
            TcpListener::bind(config.http).with_context(|| format!("cannot listen on {} (HTTP)", config.http))?;
        let dns = config
            .dns
            .iter()
            .map(|addr| {
                dns::Listener::bind(*addr).with_context(|| format!("cannot listen on {addr} (DNS, UDP and TCP)"))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self { http, dns, control: Some(crate::control::bind(data)?) })
    }
}

/// The service and the nameserver it publishes to, before anything listens.
pub struct Core {
    pub service: Arc<Service>,
    catalog: Arc<dns::Catalog>,
}

/// Opens the data file and everything the service needs; fails at once if another process
/// has the file.
pub fn open_service(data: &Path, config: &ServeConfig) -> anyhow::Result<Core> {
    let store = Store::open(data, config.cache_mib << 20)?.with_retention(config.retention());
    let metrics = Arc::new(crate::metrics::Metrics::default());
    let catalog = Arc::new(dns::Catalog::new(config.dns_settings(), metrics.clone()));
    let service = Service::new(store, config.limits(), catalog.clone(), metrics)?
        .allow_notify_to(config.allow_notify_to.clone())
        .with_catalog_zone(config.catalog_zone()?)
        .with_quotas(config.quotas())
        .with_ttl_policy(config.ttl_policy()?)
        .with_dnssec_policy(config.dnssec_policy());
    Ok(Core { service: Arc::new(service), catalog })
}

/// A running nsbox.
pub struct Handle {
    pub http_addr: SocketAddr,
    pub dns_addrs: Vec<SocketAddr>,
    pub service: Arc<Service>,
    dns: dns::Running,
    control: Option<crate::control::Control>,
    server: actix_web::dev::ServerHandle,
    thread: JoinHandle<std::io::Result<()>>,
}

pub fn start(core: Core, config: &ServeConfig, listeners: Listeners) -> anyhow::Result<Handle> {
    let Core { service, catalog } = core;
    let http_addr = listeners.http.local_addr()?;
    let dns_addrs = listeners.dns.iter().map(dns::Listener::local_addr).collect::<std::io::Result<Vec<_>>>()?;
    service.new_serials_for_signed_zones()?;
    let zones = service.publish_all()?;
    let dns = dns::serve(catalog, service.clone(), listeners.dns, config.dns_threads)?;
    tracing::info!(zones, dns = ?dns_addrs, "nameserver is answering");
    let control = listeners.control.map(|l| crate::control::serve(l, service.clone())).transpose()?;
    maintain_dnssec(Arc::downgrade(&service), *service.dnssec_policy())?;
    let shared = crate::http::Shared {
        service: web::Data::from(service.clone()),
        sessions: web::Data::new(crate::http::web::session::Sessions::new(std::time::Duration::from_secs(
            config.session_idle,
        ))),
        info: web::Data::new(crate::http::web::ServerInfo {
            dns: dns_addrs.clone(),
            metrics_token: config.metrics_token.clone(),
            metrics_allow: config.metrics_allow.clone(),
            trusted_proxies: config.trusted_proxies.clone(),
        }),
    };
    let workers = config.http_workers.max(1);
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(tls_config(cert, key)?),
        _ => None,
    };
    let (sender, receiver) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new().name("nsbox-http".into()).spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || crate::http::app(shared.clone()))
                .workers(workers)
                .max_connections(http_connections_per_worker(workers))
                .disable_signals()
                .shutdown_timeout(10);
            let server = match tls {
                Some(tls) => server.listen_rustls_0_23(listeners.http, tls)?,
                None => server.listen(listeners.http)?,
            }
            .run();
            let _ = sender.send(server.handle());
            server.await
        })
    })?;
    let server = receiver.recv().context("the HTTP server failed to start")?;
    Ok(Handle { http_addr, dns_addrs, service, dns, control, server, thread })
}

/// Keeps signed zones' keys rolling and signatures fresh: every quarter hour (more often
/// when the rollover schedule is shorter), each zone's due steps are taken. The thread holds
/// the service weakly, so it ends with the server.
fn maintain_dnssec(service: std::sync::Weak<Service>, policy: crate::domain::dnssec::Policy) -> std::io::Result<()> {
    let period = (policy.wait.min(policy.zsk_lifetime) / 4).clamp(1, 900) as u64;
    std::thread::Builder::new().name("nsbox-dnssec".into()).spawn(move || {
        loop {
            std::thread::sleep(std::time::Duration::from_secs(period));
            let Some(service) = service.upgrade() else { return };
            if let Err(error) = service.dnssec_maintenance() {
                tracing::error!(%error, "DNSSEC maintenance failed");
            }
        }
    })?;
    Ok(())
}

/// Open HTTP connections a worker takes at most: a quarter of the open-file limit in all
/// (actix's own bound, 25,000 a worker, would let idle connections take every descriptor, and
/// with them the nameserver's and the data file's). More wait until one closes.
fn http_connections_per_worker(workers: usize) -> usize {
    let quarter = dns::tcp::open_file_limit().map_or(usize::MAX, |n| n / 4);
    (quarter / workers).clamp(16, 25_000)
}

impl Handle {
    /// Finishes in-flight requests, stops every listener and releases the data file.
    pub fn stop(self) -> anyhow::Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(self.server.stop(true));
        self.dns.stop();
        if let Some(control) = self.control {
            control.stop();
        }
        self.thread.join().map_err(|_| anyhow::anyhow!("the HTTP thread panicked"))??;
        // HTTP worker threads drop their copies of the app a moment after the server stops;
        // the data file is released only with the last one.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while Arc::strong_count(&self.service) > 1 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        Ok(())
    }
}

/// HTTPS from PEM files: the certificate chain and its private key.
fn tls_config(cert: &Path, key: &Path) -> anyhow::Result<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("cannot read the certificate {}", cert.display()))?;
    let key =
        PrivateKeyDer::from_pem_file(key).with_context(|| format!("cannot read the private key {}", key.display()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the certificate and key do not fit together")?;
    Ok(config)
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
