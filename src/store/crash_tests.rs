//! Crash and fault tests of the real store code over the simulated disk (`sim_disk`): every
//! acknowledged commit must be there after any crash, and after any failed write or flush.
//!
//! These are what show durability; the kill -9 test in `tests/it/cli.rs` cannot (the page
//! cache survives a kill). Each was checked to fail without what it guards: with commits made
//! `Durability::None` (no flush before the acknowledgement), the power-loss trials lose
//! acknowledged commits at once.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::sim_disk::{Crash, Event, Fault, SimDisk, crash_image};
use super::{AuditEntry, Read, Store, StoreError};

const CACHE: usize = 1 << 20;

/// Commit `n` of a workload: an audit entry whose payload varies in size, so that commits
/// split pages and grow the file.
fn entry(n: usize, rng: &mut impl Rng) -> AuditEntry {
    let payload = "x".repeat(rng.random_range(0..6_000));
    AuditEntry {
        seq: 0,
        at: 0,
        nanos: 0,
        actor: "crash-test".into(),
        via: "test".into(),
        action: format!("commit {n}"),
        zone_id: None,
        zone: None,
        before: None,
        after: Some(serde_json::Value::String(payload)),
    }
}

/// A new data file as `Store::open` puts it in place: made and migrated under another name,
/// then renamed, so a crash never leaves a half-made file at the path.
fn new_file() -> Vec<u8> {
    let disk = SimDisk::default();
    drop(Store::open_on(disk.clone(), CACHE).unwrap());
    disk.durable_image()
}

/// A disk holding a new data file, failing as `fault` says (counted from the file's opening).
fn disk_with_new_file(fault: Option<Fault>) -> SimDisk {
    SimDisk::with(new_file(), fault)
}

/// Runs `commits` commits on `disk`, marking each acknowledged one; stops at the first error.
fn workload(disk: &SimDisk, commits: usize, rng: &mut impl Rng) -> Result<(), StoreError> {
    let store = Store::open_on(disk.clone(), CACHE)?;
    for n in 0..commits {
        let entry = entry(n, rng);
        store.write(|txn| txn.append_audit(entry))?;
        disk.ack(n);
    }
    Ok(())
}

/// Opens `image` through the store and checks that it holds commits 0..k, in order, for some
/// k ≥ `acknowledged`.
fn check_reopened(image: Vec<u8>, acknowledged: usize, what: &str) {
    let store = Store::open_on(SimDisk::with(image, None), CACHE)
        .unwrap_or_else(|e| panic!("{what}: the file does not open: {e}"));
    let mut entries = store.read(|r| r.audit(u64::MAX, usize::MAX)).unwrap();
    entries.reverse();
    assert!(entries.len() >= acknowledged, "{what}: {} of {acknowledged} acknowledged commits", entries.len());
    for (n, entry) in entries.iter().enumerate() {
        assert_eq!(entry.action, format!("commit {n}"), "{what}: commits out of order");
    }
    // The file takes new commits after the crash.
    store.write(|txn| txn.append_audit(entry(entries.len(), &mut rand::rng()))).unwrap();
}

fn crash_trials(crash: Crash, trials: usize, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let start = new_file();
    let disk = SimDisk::with(start.clone(), None);
    workload(&disk, 60, &mut rng).unwrap();
    let trace = disk.trace();
    for trial in 0..trials {
        let cut = rng.random_range(0..=trace.len());
        let (image, acknowledged) = crash_image(start.clone(), &trace, cut, crash, &mut rng);
        check_reopened(image, acknowledged, &format!("{crash:?} trial {trial} at event {cut} (seed {seed})"));
    }
}

#[test]
fn every_acknowledged_commit_survives_a_kill() {
    crash_trials(Crash::Kill, 1_000, 1);
}

#[test]
fn every_acknowledged_commit_survives_power_loss_with_torn_writes() {
    for seed in 0..3 {
        crash_trials(Crash::PowerLoss, 800, 100 + seed);
    }
}

/// EIO and ENOSPC on every write, resize and flush of a run of commits: the failing commit is
/// refused, so is every later one (`Unavailable`), and the file as the disk then holds it has
/// every acknowledged commit.
#[test]
fn a_failed_write_or_flush_loses_no_acknowledged_commit_and_stops_writes() {
    // How many calls a clean run makes, to fail each one in turn.
    let mut rng = StdRng::seed_from_u64(7);
    let clean = disk_with_new_file(None);
    workload(&clean, 12, &mut rng).unwrap();
    for at_call in 0..clean.calls() {
        for errno in [libc::EIO, libc::ENOSPC] {
            let disk = disk_with_new_file(Some(Fault { at_call, errno }));
            let what = format!("errno {errno} at call {at_call}");
            let mut rng = StdRng::seed_from_u64(7);
            let Err(error) = workload(&disk, 12, &mut rng) else {
                continue; // the call failed while the file was closed after the last commit
            };
            let acknowledged = acknowledged(&disk);
            assert!(matches!(error, StoreError::Unavailable(_) | StoreError::Redb(_)), "{what}: {error}");
            check_reopened(disk.durable_image(), acknowledged, &what);
        }
    }
}

/// After a failed flush the same store refuses every later commit, and writes nothing more
/// that could make a lost commit look durable.
#[test]
fn after_a_failed_flush_every_later_commit_is_refused() {
    let mut rng = StdRng::seed_from_u64(9);
    let probe = disk_with_new_file(None);
    workload(&probe, 3, &mut rng).unwrap();
    // The call number of the probe's last flush, which a longer run also makes.
    let calls = probe.trace().into_iter().filter(|e| !matches!(e, Event::Ack(_)));
    let last_flush = calls.enumerate().filter(|(_, e)| matches!(e, Event::Sync)).map(|(i, _)| i).last().unwrap();
    let disk = disk_with_new_file(Some(Fault { at_call: last_flush, errno: libc::EIO }));
    let store = Store::open_on(disk.clone(), CACHE).unwrap();
    let mut failed = false;
    for n in 0..20 {
        match store.write(|txn| txn.append_audit(entry(n, &mut rng))) {
            Ok(()) => assert!(!failed, "commit {n} was acknowledged after a failed flush"),
            Err(e) => {
                assert!(matches!(e, StoreError::Unavailable(_)), "{e}");
                failed = true;
            }
        }
    }
    assert!(failed, "the fault was never hit");
}

fn acknowledged(disk: &SimDisk) -> usize {
    disk.trace()
        .iter()
        .filter_map(|e| match e {
            Event::Ack(n) => Some(n + 1),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}
