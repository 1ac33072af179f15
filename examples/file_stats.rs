//! Where a data file's bytes go: redb's statistics per table, then the size after compaction.
//! `cargo run --release --example file_stats -- COPY.redb` (it compacts the file it is given).

use redb::{Database, ReadableDatabase, ReadableTableMetadata, TableHandle};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: file_stats COPY.redb")?;
    let mut db = Database::open(&path)?;
    {
        let txn = db.begin_read()?;
        for handle in txn.list_tables()? {
            let table = txn.open_untyped_table(handle.clone())?;
            let s = table.stats()?;
            println!(
                "{:14} rows {:7} leaf pages {:6} branch pages {:4} stored {:9} metadata {:8} fragmented {:8}",
                handle.name(),
                table.len()?,
                s.leaf_pages(),
                s.branch_pages(),
                s.stored_bytes(),
                s.metadata_bytes(),
                s.fragmented_bytes()
            );
        }
    }
    let before = std::fs::metadata(&path)?.len();
    while db.compact()? {}
    drop(db);
    println!("file {} bytes before compaction, {} after", before, std::fs::metadata(&path)?.len());
    Ok(())
}
