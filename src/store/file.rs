//! The data file on disk: created owner-only (it holds TSIG secrets), its directory flushed
//! whenever a file in it appears, is renamed or goes away, and locked by redb through the open
//! file itself, so a second opener is refused whatever path it took (a symlink, a bind mount).
//!
//! Commits are redb's own `Durability::Immediate` ones: in the exclusive-writer mode, one
//! flush of checksummed pages, and a torn commit falls back to the previous root when the file
//! is next opened. After a failed write or flush, redb refuses every later operation of this
//! process (`PreviousIo`), so an error that the kernel forgets after reporting it once
//! ("fsyncgate") never turns into a later commit that looks durable and is not.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use redb::backends::FileBackend;

use super::StoreError;

/// Opens the data file for redb (`Store::open` creates a missing one).
pub(super) fn open(path: &Path) -> Result<FileBackend, StoreError> {
    let io_error = |e| StoreError::Io(path.to_path_buf(), e);
    legacy_log::refuse_unmerged(path)?;
    let file = OpenOptions::new().read(true).write(true).open(path).map_err(io_error)?;
    FileBackend::new(file).map_err(StoreError::from)
}

/// Creates a new owner-only file at `path` for redb (a new data file or a backup); fails if
/// one exists.
pub(super) fn create_new(path: &Path) -> Result<FileBackend, StoreError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| StoreError::Io(path.to_path_buf(), e))?;
    FileBackend::new(file).map_err(StoreError::from)
}

/// Flushes the directory that holds `path`, so that a file created, renamed or removed there
/// stays so after a power loss.
pub fn sync_parent(path: &Path) -> io::Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(parent)?.sync_all()
}

/// Copies `source` to a new owner-only file at `out` and flushes both the file and its
/// directory.
pub fn copy_durably(source: &Path, out: &Path) -> io::Result<()> {
    let mut from = File::open(source)?;
    let mut to = OpenOptions::new().write(true).create_new(true).mode(0o600).open(out)?;
    io::copy(&mut from, &mut to)?;
    to.sync_all()?;
    sync_parent(out)
}

/// Renames `from` over `to` and flushes the directory.
pub fn rename_durably(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::rename(from, to)?;
    sync_parent(to)
}

/// The write-ahead log that nsbox kept beside its data file before it committed through redb
/// alone. A clean stop merged it; a crash could leave commits in it that only that version can
/// replay. Such a log is never replayed here (it is not bound to the file now at the path):
/// start-up refuses and says what to do.
pub mod legacy_log {
    use super::*;

    const HEADER_MAGICS: [&[u8; 8]; 2] = [b"nsboxwl2", b"nsboxwal"];
    const RECORD_MAGIC: &[u8; 8] = b"nsboxwal";
    /// Where the log's first record began, after its header block.
    const FIRST_RECORD: u64 = 4096;

    pub fn path_of(data: &Path) -> PathBuf {
        let mut name = data.as_os_str().to_owned();
        name.push("-wal");
        PathBuf::from(name)
    }

    /// Fails when the log beside `data` may hold commits the data file lacks, or cannot be read.
    pub fn refuse_unmerged(data: &Path) -> Result<(), StoreError> {
        let log = path_of(data);
        match unmerged(&log) {
            Ok(false) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Ok(true) => Err(refusal(log, data, "holds commits a crash left unmerged")),
            Err(e) if e.kind() == io::ErrorKind::InvalidData => Err(refusal(log, data, "has a damaged header")),
            Err(e) => Err(StoreError::Io(log, e)),
        }
    }

    fn refusal(log: PathBuf, data: &Path, why: &'static str) -> StoreError {
        StoreError::LegacyLog { log, data: data.to_path_buf(), why }
    }

    /// Whether the log's current epoch has a first record: a commit a crash left unmerged. A
    /// header that is not whole or fails its checksum cannot be trusted either way.
    fn unmerged(log: &Path) -> io::Result<bool> {
        let file = File::open(log)?;
        let len = file.metadata()?.len();
        if len == 0 {
            return Ok(false);
        }
        let mut header = [0u8; 20];
        file.read_exact_at(&mut header, 0).map_err(|_| corrupt_header())?;
        let (body, crc) = header.split_at(16);
        if !HEADER_MAGICS.iter().any(|m| &body[..8] == m.as_slice()) || crc32fast::hash(body).to_le_bytes() != crc {
            return Err(corrupt_header());
        }
        let epoch = &body[8..16];
        let mut head = [0u8; 24];
        if len < FIRST_RECORD + head.len() as u64 {
            return Ok(false);
        }
        file.read_exact_at(&mut head, FIRST_RECORD)?;
        Ok(&head[..8] == RECORD_MAGIC && &head[8..16] == epoch && head[16..24] == [0; 8])
    }

    fn corrupt_header() -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, "the log's header is damaged")
    }

    /// Removes a merged log, flushing the directory. Called once redb holds the data file's
    /// lock: the log of a running older server is never touched.
    pub fn remove(data: &Path) -> io::Result<()> {
        match std::fs::remove_file(path_of(data)) {
            Ok(()) => sync_parent(data),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
}
