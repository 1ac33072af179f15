//! `nsbox` as its own process: offline commands, and `nsbox serve` on a data file.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub fn nsbox(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nsbox"));
    cmd.arg("--data").arg(data).env_remove("NSBOX_PASSWORD").env_remove("NSBOX_ADMIN_PASSWORD");
    cmd
}

pub fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().expect("run nsbox");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// A user and a token made offline, before any server runs.
pub fn offline_token(data: &Path) -> String {
    let (ok, out) = run(nsbox(data).args(["user", "add", "ops"]));
    assert!(ok, "{out}");
    let out = nsbox(data).args(["token", "create", "--user", "ops", "--name", "t"]).output().unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `nsbox serve` as its own process, killed outright when dropped.
pub struct Served {
    pub child: Child,
    pub base: String,
    pub token: String,
}

impl Served {
    pub fn start(data: &Path, token: &str) -> Served {
        Self::start_with(nsbox(data), token, &["--dns", "127.0.0.1:0"])
    }

    /// `command` (nsbox on its data file, or a wrapper around it) serving with `args` more.
    pub fn start_with(mut command: Command, token: &str, args: &[&str]) -> Served {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).unwrap().port();
        let child = command
            .args(["serve", "--http", &format!("127.0.0.1:{port}")])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while ureq::get(&format!("{base}/healthz")).call().is_err() {
            assert!(Instant::now() < deadline, "the server did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        Served { child, base, token: token.to_string() }
    }

    /// The status and body of an API call.
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let req = ureq::request(method, &format!("{}{path}", self.base))
            .set("Authorization", &format!("Bearer {}", self.token));
        let res = match body {
            Some(body) => req.send_json(body),
            None => req.call(),
        };
        match res {
            Ok(r) | Err(ureq::Error::Status(_, r)) => (r.status(), r.into_json().unwrap_or(Value::Null)),
            Err(e) => panic!("{method} {path}: {e}"),
        }
    }

    pub fn add_records(&self, zone: &str, from: usize, to: usize) {
        for i in from..to {
            let body = json!({"type": "A", "name": format!("h{i}"), "content": "192.0.2.7"});
            assert_eq!(self.call("POST", &format!("/api/v1/domains/{zone}/dns"), Some(body)).0, 201);
        }
    }

    pub fn record_count(&self, zone: &str) -> Value {
        self.call("GET", &format!("/api/v1/domains/{zone}/dns"), None).1["total"].clone()
    }

    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
