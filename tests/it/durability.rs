//! The data file through crashes, a full disk and an administrator's mistakes, with the real
//! binary. The crash-state and fault-injection proofs are in `src/store/crash_tests.rs`: a
//! kill -9 here shows only that a restart reads what the process wrote, since the page cache
//! survives a kill.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::json;

use crate::dig::dig;
use crate::process::{Served, nsbox, offline_token, run};
use crate::support::Server;

/// A server killed outright (SIGKILL: no shutdown) keeps every create it answered. This shows
/// that a restart reads the process's writes, not that they were flushed: the page cache
/// survives a kill, so this test passes even with flushes switched off. `crash_tests` in the
/// store shows the flushes.
#[test]
fn acknowledged_creates_survive_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("killed.redb");
    let token = offline_token(&data);
    let served = Served::start(&data, &token);
    let zone = served.call("POST", "/api/v1/dns-zones/", Some(json!({"domain": "kill.example"}))).1;
    let zone = zone["uuid"].as_str().unwrap().to_string();
    served.add_records(&zone, 0, 40);
    served.kill();
    assert_eq!(Served::start(&data, &token).record_count(&zone), 40);
}

/// What an administrator does after a crash: run the file from elsewhere, copy a backup over
/// it, delete it to start over. Each ends in the state the administrator chose.
#[test]
fn after_a_crash_a_moved_file_a_copied_backup_and_a_deleted_file_each_start_as_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nsbox.redb");
    let token = offline_token(&data);
    let served = Served::start(&data, &token);
    let zone = served.call("POST", "/api/v1/dns-zones/", Some(json!({"domain": "admin.example"}))).1;
    let zone = zone["uuid"].as_str().unwrap().to_string();
    served.add_records(&zone, 0, 5);
    let backup = dir.path().join("backup.redb");
    let (ok, out) = run(nsbox(&data).arg("backup").arg(&backup));
    assert!(ok, "{out}");
    assert_eq!(std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777, 0o600, "backups are owner-only");
    served.add_records(&zone, 5, 10);
    served.kill();

    let moved = dir.path().join("elsewhere.redb");
    std::fs::rename(&data, &moved).unwrap();
    let served = Served::start(&moved, &token);
    assert_eq!(served.record_count(&zone), 10, "a moved file keeps every commit");
    served.kill();

    std::fs::copy(&backup, &data).unwrap();
    let served = Served::start(&data, &token);
    assert_eq!(served.record_count(&zone), 5, "a backup copied over the file is what starts");
    served.kill();

    std::fs::remove_file(&data).unwrap();
    let mut fresh = nsbox(&data)
        .args(["serve", "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(fresh.stdout.take().unwrap()), &mut first).unwrap();
    assert!(first.starts_with("Created user 'admin'"), "a deleted file starts over: {first}");
    fresh.kill().unwrap();
    fresh.wait().unwrap();
    assert_eq!(std::fs::metadata(&data).unwrap().permissions().mode() & 0o777, 0o600, "the data file is owner-only");
}

/// A second process that reaches the running server's file by a symlink is refused before it
/// writes a byte.
#[test]
fn the_same_file_by_a_symlink_is_refused_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("real.redb");
    let token = offline_token(&data);
    let served = Served::start(&data, &token);
    let link = dir.path().join("link.redb");
    std::os::unix::fs::symlink(&data, &link).unwrap();
    let before = std::fs::read(&data).unwrap();
    let (ok, out) = run(nsbox(&link).args(["serve", "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0"]));
    assert!(!ok && out.contains("already in use"), "{out}");
    let (ok, out) = run(nsbox(&link).args(["user", "add", "intruder"]));
    assert!(!ok && out.contains("already in use"), "{out}");
    assert!(std::fs::read(&data).unwrap() == before, "the refused process changed the file");
    assert_eq!(served.call("GET", "/api/v1/me", None).0, 200);
}

/// The log an older nsbox kept beside its file: one a clean stop merged goes, one holding
/// commits a crash left is refused with both files untouched, and so is a damaged one.
#[test]
fn a_log_from_an_older_nsbox_is_removed_when_merged_and_refused_when_not() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("old.redb");
    offline_token(&data);
    let log = PathBuf::from(format!("{}-wal", data.display()));
    let write_log = |epoch: u64, record_epoch: u64, damaged: bool| {
        let mut header = b"nsboxwl2".to_vec();
        header.extend_from_slice(&epoch.to_le_bytes());
        let crc = crc32(&header) ^ u32::from(damaged);
        header.extend_from_slice(&crc.to_le_bytes());
        let mut bytes = vec![0u8; 8192];
        bytes[..20].copy_from_slice(&header);
        bytes[4096..4104].copy_from_slice(b"nsboxwal");
        bytes[4104..4112].copy_from_slice(&record_epoch.to_le_bytes());
        std::fs::write(&log, &bytes).unwrap();
        bytes
    };

    for (epoch, record_epoch, damaged, why) in [(7, 7, false, "unmerged"), (7, 6, true, "damaged header")] {
        let log_bytes = write_log(epoch, record_epoch, damaged);
        let data_bytes = std::fs::read(&data).unwrap();
        let (ok, out) = run(nsbox(&data).args(["serve", "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0"]));
        assert!(!ok && out.contains("-wal is a write-ahead log from an older nsbox"), "{why}: {out}");
        assert!(out.contains("move the log aside") && out.contains("nsbox restore"), "{why}: {out}");
        assert!(std::fs::read(&log).unwrap() == log_bytes, "{why}: the log was changed");
        assert!(std::fs::read(&data).unwrap() == data_bytes, "{why}: the data file was changed");
    }

    write_log(7, 6, false);
    let (ok, out) = run(nsbox(&data).args(["token", "list"]));
    assert!(ok, "{out}");
    assert!(!log.exists(), "a merged log is removed");
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A small filesystem of its own, unmounted when dropped.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success(), "this test mounts a tmpfs: run it as root (CI does)");
        Tmpfs(dir)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.0.path()).status();
    }
}

/// A full disk: the write that does not fit answers 503 `storage_unavailable`, so does every
/// later one until a restart, reads and the nameserver go on, and after the restart every
/// write that was answered 201 is there.
#[test]
fn a_full_disk_refuses_writes_with_503_and_loses_no_acknowledged_one() {
    let fs = Tmpfs::mount("6m");
    let s = Server::start_at(fs.0.path().join("nsbox.redb"));
    let zone = s.zone(&s.admin_token, "full.example");
    let www = json!({"type": "A", "name": "www", "content": "192.0.2.80"});
    assert_eq!(s.post(&format!("/api/v1/domains/{zone}/dns"), &s.admin_token, www).status, 201);
    // Fill what is left of the filesystem.
    let filler = fs.0.path().join("filler");
    let _ = std::fs::write(&filler, vec![1u8; 6 << 20]);
    let (mut created, mut refused) = (1, None);
    for i in 0..2_000 {
        let body = json!({"type": "TXT", "name": format!("t{i}"), "content": "x".repeat(2_000)});
        let r = s.post(&format!("/api/v1/domains/{zone}/dns"), &s.admin_token, body);
        if r.status == 201 {
            created += 1;
        } else {
            r.error(503, "storage_unavailable");
            refused = Some(i);
            break;
        }
    }
    assert!(refused.is_some(), "the disk never filled");
    std::fs::remove_file(&filler).unwrap();
    let later = s.post(
        &format!("/api/v1/domains/{zone}/dns"),
        &s.admin_token,
        json!({"type": "A", "name": "late", "content": "192.0.2.1"}),
    );
    later.error(503, "storage_unavailable");
    let listed = s.get(&format!("/api/v1/domains/{zone}/dns"), &s.admin_token);
    assert_eq!(listed.status, 200, "reads go on");
    assert_eq!(listed.body["total"], created, "the records as committed");
    let answer = dig(s.dns, &["www.full.example", "A"]);
    assert_eq!(answer.data("A"), ["192.0.2.80"], "the nameserver goes on: {}", answer.raw);

    let s = s.restart();
    let listed = s.get(&format!("/api/v1/domains/{zone}/dns"), &s.admin_token);
    assert_eq!(listed.body["total"], created, "every acknowledged write after the restart");
    let now = s.post(
        &format!("/api/v1/domains/{zone}/dns"),
        &s.admin_token,
        json!({"type": "A", "name": "late", "content": "192.0.2.1"}),
    );
    assert_eq!(now.status, 201, "writes resume after the restart: {}", now.text);
}
