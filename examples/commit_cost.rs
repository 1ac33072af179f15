//! What one durable redb commit costs on this disk, by the number of tables it touches and by
//! how the file is held (the server's exclusive mode vs redb's shared single-writer mode).
//! `bench/run.sh commit` runs it; figures are in BENCHMARKS.md.

use redb::{ConcurrencyMode, Database, TableDefinition};

const TABLES: [&str; 8] = ["t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7"];
const COMMITS: u64 = 1000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("nsbox-commit-cost-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    for round in 1..=3 {
        for tables in [1, 3, 6] {
            for (label, mode) in
                [("exclusive", ConcurrencyMode::ExclusiveWriter), ("shared", ConcurrencyMode::SingleWriter)]
            {
                let (p50, p90) = measure(&dir.join(format!("{tables}-{label}.redb")), tables, mode)?;
                println!("round {round}  {tables} tables  {label:<9}  p50 {p50:>4} µs  p90 {p90:>4} µs");
            }
        }
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// Commit latency percentiles (µs) of one small insert into each of `tables` tables of
/// 10,000 rows, as a record create does.
fn measure(
    path: &std::path::Path,
    tables: usize,
    mode: ConcurrencyMode,
) -> Result<(u128, u128), Box<dyn std::error::Error>> {
    let _ = std::fs::remove_file(path);
    let db = Database::builder().set_concurrency_mode(mode).create(path)?;
    let txn = db.begin_write()?;
    for name in &TABLES[..tables] {
        let mut table = txn.open_table(TableDefinition::<u64, &[u8]>::new(name))?;
        for i in 0..10_000u64 {
            table.insert(i * 7919 % 1_000_003, &[0u8; 300][..])?;
        }
    }
    txn.commit()?;
    let mut times = Vec::new();
    for i in 0..COMMITS {
        let start = std::time::Instant::now();
        let txn = db.begin_write()?;
        for name in &TABLES[..tables] {
            txn.open_table(TableDefinition::<u64, &[u8]>::new(name))?
                .insert(2_000_000 + i * 104_729 % 1_000_003, &[1u8; 300][..])?;
        }
        txn.commit()?;
        times.push(start.elapsed().as_micros());
    }
    times.sort_unstable();
    Ok((times[times.len() / 2], times[times.len() * 9 / 10]))
}
