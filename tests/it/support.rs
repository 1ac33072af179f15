//! Starts the real server on a loopback port 0 with a temporary data file, and speaks HTTP to it.

use std::net::TcpListener;
use std::path::PathBuf;

use nsbox::app::{self, Handle, Listeners};
use nsbox::config::ServeConfig;
use nsbox::service::{Actor, NewToken};
use serde_json::{Value, json};

pub const ADMIN_PASSWORD: &str = "admin-password-123";
const LOOPBACK: std::net::SocketAddr =
    std::net::SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

pub struct Server {
    handle: Option<Handle>,
    pub base: String,
    /// The nameserver's address (UDP and TCP).
    pub dns: std::net::SocketAddr,
    /// Every nameserver address, `dns` first.
    pub dns_all: Vec<std::net::SocketAddr>,
    pub data: PathBuf,
    pub config: ServeConfig,
    pub admin_token: String,
    _dir: std::sync::Arc<tempfile::TempDir>,
}

pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub text: String,
    headers: Vec<(String, String)>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Asserts the documented error shape and returns it.
    pub fn error(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.body["error_code"], code, "{}", self.text);
        assert!(self.body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{}", self.text);
        assert!(self.body.get("field").is_some(), "{}", self.text);
        &self.body
    }
}

impl Server {
    pub fn start() -> Server {
        Self::start_with(ServeConfig::default())
    }

    pub fn start_with(config: ServeConfig) -> Server {
        let dir = std::sync::Arc::new(tempfile::tempdir().expect("temp dir"));
        let data = dir.path().join("nsbox.redb");
        Self::open(config, data, dir, None, vec![LOOPBACK])
    }

    /// A server whose data file is at `data` (a new one), with an admin token.
    pub fn start_at(data: PathBuf) -> Server {
        let dir = std::sync::Arc::new(tempfile::tempdir().expect("temp dir"));
        Self::open(ServeConfig::default(), data, dir, None, vec![LOOPBACK])
    }

    /// A server whose nameserver listens on each of these addresses (port 0: a free one).
    pub fn start_on(dns: &[std::net::SocketAddr]) -> Server {
        let dir = std::sync::Arc::new(tempfile::tempdir().expect("temp dir"));
        let data = dir.path().join("nsbox.redb");
        Self::open(ServeConfig::default(), data, dir, None, dns.to_vec())
    }

    fn open(
        config: ServeConfig,
        data: PathBuf,
        dir: std::sync::Arc<tempfile::TempDir>,
        admin_token: Option<String>,
        dns: Vec<std::net::SocketAddr>,
    ) -> Server {
        let core = app::open_service(&data, &config).expect("open service");
        let service = core.service.clone();
        service.bootstrap_admin(Some(ADMIN_PASSWORD.into())).expect("bootstrap");
        let admin_token = admin_token.unwrap_or_else(|| {
            let admin = service.find_user("admin").expect("admin exists");
            let new = NewToken { label: "test admin".into(), ..NewToken::default() };
            service.create_token(&Actor::user(&admin, "test"), new).expect("admin token").1
        });
        let dns = dns.into_iter().map(|addr| nsbox::dns::Listener::bind(addr).expect("bind dns")).collect();
        let control = Some(nsbox::control::bind(&data).expect("bind the control socket"));
        let listeners = Listeners { http: TcpListener::bind("127.0.0.1:0").expect("bind"), dns, control };
        let handle = app::start(core, &config, listeners).expect("start");
        let base = format!("http://{}", handle.http_addr);
        let dns_all = handle.dns_addrs.clone();
        Server { handle: Some(handle), base, dns: dns_all[0], dns_all, data, config, admin_token, _dir: dir }
    }

    /// A server on an existing data file (a restored backup), with the default settings.
    pub fn open_existing(data: PathBuf) -> Server {
        let dir = std::sync::Arc::new(tempfile::tempdir().expect("temp dir"));
        Self::open(ServeConfig::default(), data, dir, Some(String::new()), vec![LOOPBACK])
    }

    /// The running server's service, for what no API shows (the audit's stored form).
    pub fn service(&self) -> &std::sync::Arc<nsbox::service::Service> {
        &self.handle.as_ref().expect("the server runs").service
    }

    /// Stops the server and hands over its data file (and the folder that keeps it).
    pub fn stop(mut self) -> (PathBuf, std::sync::Arc<tempfile::TempDir>) {
        if let Some(handle) = self.handle.take() {
            handle.stop().expect("stop");
        }
        (self.data.clone(), self._dir.clone())
    }

    /// Stops the server and starts a new one on the same data file.
    pub fn restart(mut self) -> Server {
        if let Some(handle) = self.handle.take() {
            handle.stop().expect("stop");
        }
        let dns = self.dns_all.iter().map(|a| std::net::SocketAddr::new(a.ip(), 0)).collect();
        Self::open(self.config.clone(), self.data.clone(), self._dir.clone(), Some(self.admin_token.clone()), dns)
    }

    pub fn request(&self, method: &str, path: &str, token: Option<&str>, body: Option<&[u8]>) -> Resp {
        self.request_as(method, path, token, body.map(|b| ("application/json", b)))
    }

    /// A request whose body has the given content type.
    pub fn request_as(&self, method: &str, path: &str, token: Option<&str>, body: Option<(&str, &[u8])>) -> Resp {
        let mut req = ureq::request(method, &format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        let result = match body {
            Some((content_type, b)) => req.set("Content-Type", content_type).send_bytes(b),
            None => req.call(),
        };
        let response = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let status = response.status();
        let headers = response
            .headers_names()
            .into_iter()
            .filter_map(|n| response.header(&n).map(|v| (n.clone(), v.to_string())))
            .collect();
        let text = response.into_string().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, body, text, headers }
    }

    pub fn get(&self, path: &str, token: &str) -> Resp {
        self.request("GET", path, Some(token), None)
    }

    pub fn send(&self, method: &str, path: &str, token: &str, body: Value) -> Resp {
        self.request(method, path, Some(token), Some(body.to_string().as_bytes()))
    }

    pub fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.send("POST", path, token, body)
    }

    pub fn delete(&self, path: &str, token: &str) -> Resp {
        self.request("DELETE", path, Some(token), None)
    }

    /// A new user (through the admin API) and a token for it with these scopes (all if empty).
    pub fn user_token(&self, username: &str, scopes: &[&str], zones: &[&str]) -> String {
        let users = self.get("/api/v1/users", &self.admin_token);
        let existing =
            users.body["users"].as_array().and_then(|u| u.iter().find(|u| u["username"] == username).cloned());
        let user_id = match existing {
            Some(u) => u["id"].as_str().unwrap_or_default().to_string(),
            None => {
                let created = self.post("/api/v1/users", &self.admin_token, json!({"username": username}));
                assert_eq!(created.status, 201, "{}", created.text);
                created.body["id"].as_str().unwrap_or_default().to_string()
            }
        };
        let token = self.post(
            "/api/v1/tokens",
            &self.admin_token,
            json!({"name": format!("{username} token"), "user_id": user_id, "scopes": scopes, "zones": zones}),
        );
        assert_eq!(token.status, 201, "{}", token.text);
        token.body["token"].as_str().unwrap_or_default().to_string()
    }

    /// Creates a zone through the VPS.org API and returns its id.
    pub fn zone(&self, token: &str, domain: &str) -> String {
        let r = self.post("/api/v1/dns-zones/", token, json!({"domain": domain}));
        assert_eq!(r.status, 201, "{}", r.text);
        r.body["uuid"].as_str().unwrap_or_default().to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            let _ = handle.stop();
        }
    }
}
