//! The `nsbox` binary itself: offline user and token commands, first-run admin, one process per file.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::Server;

fn nsbox(data: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nsbox"));
    cmd.arg("--data")
        .arg(data)
        .env_remove("NSBOX_PASSWORD")
        .env_remove("NSBOX_ADMIN_PASSWORD")
        .env_remove("RUST_BACKTRACE");
    cmd
}

fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().expect("run nsbox");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn offline_user_and_token_commands() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("cli.redb");
    let (ok, password, _) = run(nsbox(&data).args(["user", "add", "ops"]));
    assert!(ok && password.trim().len() >= 10, "a generated password is printed: {password}");
    let (ok, _, err) = run(nsbox(&data).args(["user", "add", "ops"]));
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, out, err) = run(nsbox(&data).args([
        "token", "create", "--user", "ops", "--name", "deploy", "--scope", "dns:read", "--scope", "dns:list",
        "--style", "sk_live",
    ]));
    assert!(ok, "{err}");
    let token = out.trim().to_string();
    assert!(token.starts_with("sk_live_") && !token.contains(char::is_whitespace), "only the token on stdout: {out}");
    let (ok, list, _) = run(nsbox(&data).args(["token", "list"]));
    assert!(ok && list.contains("deploy") && list.contains("dns:list,dns:read") && !list.contains(&token), "{list}");
    let id = list.lines().find(|l| l.contains("deploy")).and_then(|l| l.split_whitespace().next()).unwrap().to_string();

    // The file holds no secret in the clear.
    let bytes = std::fs::read(&data).unwrap();
    let secret = token.rsplit('_').next().unwrap();
    assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()));
    assert!(!bytes.windows(password.trim().len()).any(|w| w == password.trim().as_bytes()));

    let (ok, _, err) = run(nsbox(&data).args(["token", "revoke", &id]));
    assert!(ok, "{err}");
    let (_, list, _) = run(nsbox(&data).args(["token", "list"]));
    assert!(list.lines().any(|l| l.contains("deploy") && l.contains("true")), "{list}");
    let (ok, _, err) = run(nsbox(&data).args(["token", "create", "--user", "nobody", "--name", "x"]));
    assert!(!ok && err.contains("not found"), "{err}");
}

#[test]
fn first_serve_creates_admin_once_and_the_file_is_exclusive() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("first.redb");
    let mut child = nsbox(&data)
        .args(["serve", "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    assert!(first.starts_with("Created user 'admin' with password: "), "{first}");

    // A second process on the same file fails at once with a clear message.
    let started = Instant::now();
    let (ok, _, err) = run(nsbox(&data).args(["serve", "--http", "127.0.0.1:0"]));
    assert!(!ok && err.contains("already in use"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
    let (ok, _, err) = run(nsbox(&data).args(["token", "list"]));
    assert!(!ok && err.contains("already in use"), "{err}");

    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let status = child.wait().unwrap();
    assert!(status.success(), "SIGTERM stops cleanly: {status}");
    let again = nsbox(&data)
        .args(["serve", "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let _ = Command::new("kill").arg("-TERM").arg(again.id().to_string()).status();
    let out = again.wait_with_output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).is_empty(), "the password is printed only on the first start");
}

#[test]
fn a_cli_token_works_against_the_server() {
    let s = Server::start();
    let created = s.get("/api/v1/users", &s.admin_token);
    assert_eq!(created.status, 200);
    // The server holds the file, so offline commands refuse politely.
    let (ok, _, err) = run(nsbox(&s.data).args(["user", "add", "x"]));
    assert!(!ok && err.contains("already in use"), "{err}");
}

#[test]
fn configuration_precedence_is_flag_env_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nsbox.toml");
    std::fs::write(&file, "http = \"127.0.0.1:18999\"\nns_name = [\"ns1.file.example\", \"ns2.file.example\"]\nrate-read = 7\nallow-transfer = [\"192.0.2.0/24\"]\n").unwrap();
    let data = dir.path().join("c.redb");
    let check = |env: Option<&str>, extra: &[&str]| {
        let mut cmd = nsbox(&data);
        cmd.arg("--config").arg(&file).args(["config", "check"]).args(extra).env_remove("NSBOX_RATE_READ");
        if let Some(v) = env {
            cmd.env("NSBOX_RATE_READ", v);
        }
        run(&mut cmd)
    };
    let (ok, out, err) = check(None, &[]);
    assert!(
        ok && out.contains("rate_read: 7") && out.contains("ns2.file.example") && out.contains("127.0.0.1:18999"),
        "{out}{err}"
    );
    assert!(check(Some("9"), &[]).1.contains("rate_read: 9"), "the environment beats the file");
    assert!(check(Some("9"), &["--rate-read", "11"]).1.contains("rate_read: 11"), "a flag beats both");
    std::fs::write(&file, "htpp = \"x\"\n").unwrap();
    let (ok, _, err) = check(None, &[]);
    assert!(!ok && err.contains("unknown setting 'htpp'"), "{err}");
    let (_, _, err) = run(nsbox(&data).args(["config", "check"]).env("NSBOX_RATE_REED", "1"));
    assert!(err.contains("unknown environment variable NSBOX_RATE_REED"), "{err}");
    let (ok, _, err) = run(nsbox(&data).args(["config", "check", "--rate-read", "many"]));
    assert!(!ok && err.contains("invalid value"), "{err}");
}

#[test]
fn healthcheck_probes_http_and_dns() {
    let s = Server::start();
    let (ok, out, err) = run(Command::new(env!("CARGO_BIN_EXE_nsbox")).args([
        "healthcheck",
        "--http",
        &s.base[7..],
        "--dns",
        &s.dns.to_string(),
    ]));
    assert!(ok && out.contains("healthy"), "{out}{err}");
    let ready = ureq::get(&format!("{}/readyz", s.base)).call().unwrap();
    assert_eq!(ready.status(), 200);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let (ok, _, err) = run(Command::new(env!("CARGO_BIN_EXE_nsbox")).args([
        "healthcheck",
        "--http",
        &closed.to_string(),
        "--dns",
        &s.dns.to_string(),
    ]));
    assert!(!ok && err.contains("not answering"), "{err}");
}

#[test]
fn dnssec_is_turned_on_and_off_offline() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("cli.redb");
    assert!(run(nsbox(&data).args(["user", "add", "ops"])).0);
    assert!(run(nsbox(&data).args(["zone", "create", "cli.test", "--user", "ops"])).0);
    let (ok, out, err) = run(nsbox(&data).args(["zone", "dnssec", "enable", "cli.test", "--algorithm", "ed25519"]));
    assert!(ok && out.contains("signed, ed25519, nsec") && out.contains("cli.test. DS "), "{out}{err}");
    let (ok, out, _) = run(nsbox(&data).args(["zone", "dnssec", "status", "cli.test"]));
    assert!(ok && out.contains("257 3 15 "), "{out}");
    let (ok, _, err) = run(nsbox(&data).args(["zone", "dnssec", "enable", "cli.test", "--algorithm", "rsa"]));
    assert!(!ok && err.contains("not a signing algorithm"), "{err}");

    // The server it serves the file with signs the zone with that key.
    let s = Server::open_existing(data.clone());
    let dnskey = crate::dig::dig(s.dns, &["cli.test", "DNSKEY"]);
    assert!(dnskey.data("DNSKEY").iter().any(|k| k.starts_with("257 3 15 ")), "{}", dnskey.raw);
    drop(s.stop());
    let (ok, out, _) = run(nsbox(&data).args(["zone", "dnssec", "disable", "cli.test", "--force"]));
    assert!(ok && out.contains("cli.test: unsigned"), "{out}");
}
