//! Backups taken while the server runs (under write load) restore to a working server.

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

use crate::support::Server;

fn nsbox(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nsbox")).args(args).env_remove("RUST_BACKTRACE").output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// Every zone with its record count as stored and as listed: equal in a consistent copy.
fn zones(s: &Server, t: &str) -> Vec<(String, u64, usize)> {
    let list = s.get("/api/v1/dns-zones/", t);
    list.body
        .as_array()
        .unwrap()
        .iter()
        .map(|z: &Value| {
            let id = z["uuid"].as_str().unwrap();
            let records = s.get(&format!("/api/v1/dns-zones/{id}/records/"), t).body.as_array().map_or(0, Vec::len);
            (z["domain"].as_str().unwrap().to_string(), z["record_count"].as_u64().unwrap(), records)
        })
        .collect()
}

#[test]
fn backup_under_load_restores_consistently() {
    let s = Server::start();
    let t = s.user_token("backup", &[], &[]);
    let z = s.zone(&t, "backup.example");
    let dir = tempfile::tempdir().unwrap();
    let data = s.data.to_str().unwrap().to_string();

    // Writes go on while two backups are taken from another process.
    let writing = AtomicBool::new(true);
    let copies: Vec<std::path::PathBuf> = std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut i = 0;
            while writing.load(Ordering::Relaxed) {
                s.post(
                    &format!("/api/v1/domains/{z}/dns"),
                    &t,
                    json!({"type": "A", "name": format!("h{i}"), "content": "192.0.2.1"}),
                );
                i += 1;
            }
        });
        std::thread::sleep(std::time::Duration::from_millis(300));
        let copies: Vec<_> = (0..2)
            .map(|n| {
                let out = dir.path().join(format!("copy{n}.redb"));
                let (ok, text) = nsbox(&["--data", &data, "backup", out.to_str().unwrap()]);
                assert!(ok, "{text}");
                std::thread::sleep(std::time::Duration::from_millis(200));
                out
            })
            .collect();
        writing.store(false, Ordering::Relaxed);
        copies
    });
    let (ok, text) = nsbox(&["--data", &data, "backup", copies[0].to_str().unwrap()]);
    assert!(!ok && text.contains("never overwrites"), "{text}");
    let live = zones(&s, &t);

    // Restore each copy into a fresh data file and serve it.
    let mut counts = Vec::new();
    for copy in &copies {
        let target = dir.path().join(format!("restored-{}", copy.file_name().unwrap().to_str().unwrap()));
        let (ok, text) = nsbox(&["--data", target.to_str().unwrap(), "restore", copy.to_str().unwrap()]);
        assert!(ok, "{text}");
        let restored = crate::support::Server::open_existing(target);
        let got = zones(&restored, &t);
        assert_eq!(got.len(), 1);
        let (domain, stored, listed) = got[0].clone();
        assert_eq!(
            (domain.as_str(), stored as usize),
            ("backup.example", listed),
            "a consistent snapshot: the count matches the records"
        );
        assert!(listed > 0 && listed as u64 <= live[0].1);
        counts.push(listed);
    }
    assert!(counts[0] <= counts[1], "later copies hold at least as much: {counts:?}");
    // Restoring over a file needs --force, and never while a server holds it.
    let (ok, text) = nsbox(&["--data", &data, "restore", copies[0].to_str().unwrap()]);
    assert!(!ok && text.contains("--force"), "{text}");
    let (ok, text) = nsbox(&["--data", &data, "restore", "--force", copies[0].to_str().unwrap()]);
    assert!(!ok && text.contains("already in use"), "{text}");
    let junk = dir.path().join("junk.redb");
    std::fs::write(&junk, b"not a database").unwrap();
    let (ok, text) = nsbox(&["--data", dir.path().join("x.redb").to_str().unwrap(), "restore", junk.to_str().unwrap()]);
    assert!(!ok && text.contains("not a usable nsbox backup"), "{text}");
}

#[test]
fn admins_download_a_backup() {
    let s = Server::start();
    let t = s.user_token("dl", &[], &[]);
    let z = s.zone(&t, "download.example");
    s.post(&format!("/api/v1/domains/{z}/dns"), &t, json!({"type": "TXT", "name": "@", "content": "kept"}));
    s.get("/api/v1/backup", &t).error(403, "forbidden");
    let response = ureq::get(&format!("{}/api/v1/backup", s.base))
        .set("Authorization", &format!("Bearer {}", s.admin_token))
        .call()
        .unwrap();
    assert!(response.header("content-disposition").unwrap_or_default().contains("attachment"));
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut response.into_reader(), &mut bytes).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("downloaded.redb");
    std::fs::write(&file, bytes).unwrap();
    let restored = crate::support::Server::open_existing(file);
    assert_eq!(restored.get(&format!("/api/v1/domains/{z}/dns"), &t).body["records"][0]["content"], "kept");
}

/// The console offers admins the same download, and no one else.
#[test]
fn the_console_offers_admins_a_backup() {
    let s = Server::start();
    let mut admin = crate::web::Browser::new(&s);
    admin.login("admin", crate::support::ADMIN_PASSWORD);
    assert!(admin.get("/admin/users").body.contains("href=\"/admin/backup\""));
    assert_eq!(admin.get("/admin/backup").status, 200);
    let password = "plain-user-password-1";
    let created = s.post("/api/v1/users", &s.admin_token, json!({"username": "plain", "password": password}));
    assert_eq!(created.status, 201, "{}", created.text);
    let mut user = crate::web::Browser::new(&s);
    user.login("plain", password);
    assert_eq!(user.get("/admin/backup").status, 403);
}
