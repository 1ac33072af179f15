//! Certificates by DNS-01 against nsbox, as Traefik and lego users get them: lego (Debian's)
//! asks a local pebble ACME server, answers the challenge through nsbox's PowerDNS dialect
//! and through RFC 2136 with TSIG, and pebble checks the TXT record on nsbox's nameserver.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::Server;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).unwrap().port()
}

/// pebble on free loopback ports with a certificate made for it, stopped when dropped.
struct Pebble {
    child: Child,
    directory: String,
}

impl Pebble {
    fn start(dir: &Path, dns: SocketAddr) -> Pebble {
        let made = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"])
            .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
            .arg("-keyout")
            .arg(dir.join("key.pem"))
            .arg("-out")
            .arg(dir.join("cert.pem"))
            .output()
            .expect("openssl");
        assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
        let (port, management) = (free_port(), free_port());
        let config = json!({"pebble": {
            "listenAddress": format!("127.0.0.1:{port}"), "managementListenAddress": format!("127.0.0.1:{management}"),
            "certificate": dir.join("cert.pem"), "privateKey": dir.join("key.pem"),
            "httpPort": free_port(), "tlsPort": free_port(), "ocspResponderURL": "", "externalAccountBindingRequired": false}});
        std::fs::write(dir.join("pebble.json"), config.to_string()).unwrap();
        let child = Command::new("pebble")
            .arg("-config")
            .arg(dir.join("pebble.json"))
            .args(["-dnsserver", &dns.to_string()])
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pebble (Debian's package; .ci/run installs it)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "pebble did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Pebble { child, directory: format!("https://127.0.0.1:{port}/dir") }
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs lego for `domain` with a DNS provider and its environment; returns its output.
fn lego(dir: &Path, pebble: &Pebble, s: &Server, provider: &str, domain: &str, env: &[(&str, String)]) -> String {
    let mut cmd = Command::new("lego");
    cmd.env("LEGO_CA_CERTIFICATES", dir.join("cert.pem"))
        .args(["--server", &pebble.directory, "--accept-tos", "--email", "ops@lego.example"])
        .arg("--path")
        .arg(dir.join("lego"))
        .args([
            "--dns",
            provider,
            "--dns.resolvers",
            &s.dns.to_string(),
            "--dns.disable-cp",
            "--domains",
            domain,
            "run",
        ]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("lego (Debian's package; .ci/run installs it)");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "lego --dns {provider}: {text}");
    text
}

#[test]
fn lego_gets_certificates_through_the_powerdns_dialect_and_rfc_2136() {
    let s = Server::start();
    let token = s.user_token("acme", &[], &[]);
    s.zone(&token, "lego.example");
    let dir = tempfile::tempdir().unwrap();
    let pebble = Pebble::start(dir.path(), s.dns);

    let pdns_env = [
        ("PDNS_API_URL", s.base.clone()),
        ("PDNS_API_KEY", token.clone()),
        ("PDNS_PROPAGATION_TIMEOUT", "30".to_string()),
        ("PDNS_POLLING_INTERVAL", "1".to_string()),
    ];
    lego(dir.path(), &pebble, &s, "pdns", "www.lego.example", &pdns_env);
    assert!(
        dir.path().join("lego/certificates/www.lego.example.crt").exists(),
        "a certificate through the PowerDNS dialect"
    );

    let key = s.post("/api/v1/tsig-keys", &s.admin_token, json!({"name": "lego-key", "zones": ["lego.example"]}));
    let rfc2136_env = [
        ("RFC2136_NAMESERVER", s.dns.to_string()),
        ("RFC2136_TSIG_ALGORITHM", "hmac-sha256.".to_string()),
        ("RFC2136_TSIG_KEY", "lego-key.".to_string()),
        ("RFC2136_TSIG_SECRET", key.body["secret"].as_str().unwrap().to_string()),
        ("RFC2136_PROPAGATION_TIMEOUT", "30".to_string()),
        ("RFC2136_POLLING_INTERVAL", "1".to_string()),
    ];
    lego(dir.path(), &pebble, &s, "rfc2136", "api.lego.example", &rfc2136_env);
    assert!(dir.path().join("lego/certificates/api.lego.example.crt").exists(), "a certificate through RFC 2136");
    // Both cleaned up after themselves.
    for name in ["_acme-challenge.www.lego.example", "_acme-challenge.api.lego.example"] {
        assert_eq!(crate::dig::dig(s.dns, &[name, "TXT"]).status, "NXDOMAIN", "{name}");
    }
}
