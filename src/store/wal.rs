//! A write-ahead log under redb: each commit's pages are flushed as one contiguous record.
//!
//! A redb commit writes its changed pages where its allocator put them, scattered over the
//! file, then flushes. On this kind of virtual disk every separate page costs about as much as
//! a sixth of the flush itself (BENCHMARKS.md). Here the pages go into the data file without a
//! flush, and into one record appended to `<data file>-wal`, which is flushed instead: one
//! run of bytes. The data file is flushed at a checkpoint, when the log is full, when redb
//! resizes the file, and on close; the log then starts over (a new epoch). Records are padded
//! to whole blocks and written around the page cache (`O_DIRECT`) where the filesystem allows
//! it: the kernel then hands the record to the disk without first copying it into cached
//! pages and writing those back. A page goes into its record without its trailing zeros
//! (B-tree pages are partly empty): a record is about a third of its pages' size.
//!
//! After a crash, opening replays the records of the current epoch in order, which puts every
//! page of every acknowledged commit back. A record that was torn fails its checksum and ends
//! the replay: its commit was never acknowledged, and redb discards a commit whose pages it
//! cannot verify. The log is locked, so only the process that owns the data file replays it.

use std::fs::{File, OpenOptions};
use std::io;
use std::ops::Bound;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use redb::backends::FileBackend;
use redb::{BackendError, StorageBackend};

/// Every record starts with this; so did the header of the first log format.
const MAGIC: &[u8; 8] = b"nsboxwal";
/// The header's magic in the current format (`Format::Trimmed`).
const MAGIC_TRIMMED: &[u8; 8] = b"nsboxwl2";
/// The unit of writes around the page cache: their offsets, lengths and memory are aligned to it.
const BLOCK: usize = 4096;
/// The log's first block holds its header: magic, epoch, checksum.
const HEADER_BYTES: u64 = BLOCK as u64;
/// A record's head: magic, epoch, sequence number, body length, checksum.
const RECORD_HEAD: usize = 8 + 8 + 8 + 8 + 4;
/// A page's head in a record body: offset, length, and the length of the bytes kept.
const PAGE_HEAD: usize = 8 + 8 + 8;
/// When the log would grow past this, the next commit checkpoints instead. The log is
/// written in zeros to this size when it is opened, so that appending a record changes no
/// file size: flushing a file whose size changed also flushes the filesystem's journal, and
/// growing it on the way cost the first few hundred commits milliseconds each.
const CAPACITY: u64 = 8 << 20;

/// The side file that holds the log of `data`.
pub fn log_path(data: &Path) -> PathBuf {
    let mut name = data.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

#[derive(Debug)]
pub struct LoggedFile {
    data: FileBackend,
    /// The same file, for replay and checkpoints.
    data_file: File,
    log: File,
    /// The log opened for writes around the page cache, when its filesystem allows them.
    direct: Option<File>,
    state: Mutex<Log>,
}

#[derive(Debug)]
struct Log {
    epoch: u64,
    next_seq: u64,
    /// Where the next record goes.
    end: u64,
    /// The page writes since the last flush, as a record body.
    pending: Vec<u8>,
    /// Where the next record is encoded: kept, so that a commit allocates nothing here.
    record: Aligned,
    /// The next flush is a checkpoint: redb changed the data file's size, or the writes since
    /// the last flush are more than the log holds (they are then not kept twice in memory).
    checkpoint_due: bool,
}

/// How a log's records are laid out, from its header's magic.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    /// The first format: records back to back, pages whole (offset, length, bytes).
    Whole,
    /// Records padded to whole blocks, pages without their trailing zeros.
    Trimmed,
}

/// Why the log could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("in use by another process")]
    Locked,
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl LoggedFile {
    /// Opens the data file with its log, replaying what a crash left in the log.
    pub fn open(data: &Path) -> Result<Self, OpenError> {
        let open = |path: &Path| OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path);
        let log = open(&log_path(data))?;
        match log.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(OpenError::Locked),
            Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
        }
        let data_file = open(data)?;
        let epoch = replay(&log, &data_file)? + 1;
        write_header(&log, epoch)?;
        let written = log.metadata()?.len().max(HEADER_BYTES);
        if written < CAPACITY {
            zero_fill(&log, written, CAPACITY)?;
        }
        let direct = open_direct(&log_path(data));
        let backend = FileBackend::new(data_file.try_clone()?).map_err(|e| io::Error::other(e.to_string()))?;
        let state = Log {
            epoch,
            next_seq: 0,
            end: HEADER_BYTES,
            pending: Vec::new(),
            record: Aligned::default(),
            checkpoint_due: false,
        };
        Ok(Self { data: backend, data_file, log, direct, state: Mutex::new(state) })
    }

    fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Flushes the data file and starts the log over.
    fn checkpoint(&self, log: &mut Log) -> io::Result<()> {
        self.data_file.sync_data()?;
        log.epoch += 1;
        write_header(&self.log, log.epoch)?;
        log.next_seq = 0;
        log.end = HEADER_BYTES;
        log.pending.clear();
        log.checkpoint_due = false;
        Ok(())
    }

    fn append(&self, log: &mut Log) -> io::Result<()> {
        let bytes = encode_record(&mut log.record, log.epoch, log.next_seq, &log.pending);
        let aligned = bytes.as_ptr().addr().is_multiple_of(BLOCK);
        let file = self.direct.as_ref().filter(|_| aligned).unwrap_or(&self.log);
        file.write_all_at(bytes, log.end)?;
        self.log.sync_data()?;
        log.end += bytes.len() as u64;
        log.next_seq += 1;
        log.pending.clear();
        Ok(())
    }
}

impl StorageBackend for LoggedFile {
    fn len(&self) -> Result<u64, io::Error> {
        self.data.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        self.data.read(offset, out)
    }

    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        self.log().checkpoint_due = true;
        self.data.set_len(len)
    }

    fn sync_data(&self) -> Result<(), io::Error> {
        let mut log = self.log();
        if log.checkpoint_due {
            self.checkpoint(&mut log)
        } else if log.pending.is_empty() {
            Ok(())
        } else {
            self.append(&mut log)
        }
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        self.data.write(offset, data)?;
        let mut log = self.log();
        if log.checkpoint_due {
            return Ok(()); // the flush checkpoints: this page is not logged
        }
        let kept = without_trailing_zeros(data);
        let record_end = log.end + padded(RECORD_HEAD + log.pending.len() + PAGE_HEAD + kept) as u64;
        if record_end > CAPACITY {
            log.checkpoint_due = true;
            log.pending.clear();
            return Ok(());
        }
        log.pending.extend_from_slice(&offset.to_le_bytes());
        log.pending.extend_from_slice(&(data.len() as u64).to_le_bytes());
        log.pending.extend_from_slice(&(kept as u64).to_le_bytes());
        log.pending.extend_from_slice(&data[..kept]);
        Ok(())
    }

    fn close(&self) -> Result<(), io::Error> {
        let mut log = self.log();
        self.checkpoint(&mut log)?;
        self.data.close()
    }

    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.data.try_lock_range(start, end)
    }

    fn try_lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.data.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.data.lock_range(start, end)
    }

    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.data.lock_shared_range(start, end)
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.data.unlock_range(start, end)
    }

    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.data.query_lock_range(start, end)
    }
}

fn write_header(log: &File, epoch: u64) -> io::Result<()> {
    let mut header = Vec::with_capacity(20);
    header.extend_from_slice(MAGIC_TRIMMED);
    header.extend_from_slice(&epoch.to_le_bytes());
    header.extend_from_slice(&crc32fast::hash(&header).to_le_bytes());
    log.write_all_at(&header, 0)?;
    log.sync_data()
}

/// The epoch in the header (0 for a new or unreadable log) and the format of its records.
fn read_header(log: &File) -> io::Result<(u64, Format)> {
    let mut header = [0u8; 20];
    if log.metadata()?.len() < header.len() as u64 {
        return Ok((0, Format::Trimmed));
    }
    log.read_exact_at(&mut header, 0)?;
    let (body, crc) = header.split_at(16);
    let format = match &body[..8] {
        magic if magic == MAGIC_TRIMMED => Format::Trimmed,
        magic if magic == MAGIC => Format::Whole,
        _ => return Ok((0, Format::Trimmed)),
    };
    let valid = crc32fast::hash(body).to_le_bytes() == crc;
    Ok((if valid { u64_at(body, 8) } else { 0 }, format))
}

/// The length of `page` without its trailing zeros. Looks at 64 bytes at a time, which the
/// compiler turns into vector instructions.
fn without_trailing_zeros(page: &[u8]) -> usize {
    const CHUNK: usize = 64;
    let last_nonzero = |bytes: &[u8]| bytes.iter().rposition(|&b| b != 0).map(|at| at + 1);
    let whole = page.len() / CHUNK * CHUNK;
    if let Some(len) = last_nonzero(&page[whole..]) {
        return whole + len;
    }
    let chunk = page[..whole].chunks_exact(CHUNK).rposition(|c| c.iter().fold(0, |acc, &b| acc | b) != 0);
    chunk.and_then(|c| last_nonzero(&page[c * CHUNK..(c + 1) * CHUNK]).map(|len| c * CHUNK + len)).unwrap_or(0)
}

/// `len` rounded up to whole blocks.
fn padded(len: usize) -> usize {
    len.next_multiple_of(BLOCK)
}

/// A reusable buffer that hands out block-aligned memory, as writes around the page cache need.
#[derive(Debug, Default)]
struct Aligned(Vec<u8>);

impl Aligned {
    /// `len` zeroed bytes, rounded up to whole blocks.
    fn zeroed(&mut self, len: usize) -> &mut [u8] {
        let len = padded(len);
        self.0.clear();
        self.0.resize(len + BLOCK, 0);
        // Only speed depends on the alignment: an unaligned record goes through the page cache.
        let start = self.0.as_ptr().align_offset(BLOCK).min(BLOCK);
        &mut self.0[start..start + len]
    }
}

/// Encodes a record into `out`, padded to whole blocks.
fn encode_record<'a>(out: &'a mut Aligned, epoch: u64, seq: u64, body: &[u8]) -> &'a [u8] {
    let record = out.zeroed(RECORD_HEAD + body.len());
    let (head, rest) = record.split_at_mut(RECORD_HEAD);
    head[..8].copy_from_slice(MAGIC);
    head[8..16].copy_from_slice(&epoch.to_le_bytes());
    head[16..24].copy_from_slice(&seq.to_le_bytes());
    head[24..32].copy_from_slice(&(body.len() as u64).to_le_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(&head[..32]);
    crc.update(body);
    head[32..].copy_from_slice(&crc.finalize().to_le_bytes());
    rest[..body.len()].copy_from_slice(body);
    record
}

/// The log opened for writes around the page cache (`O_DIRECT`), if its filesystem takes an
/// aligned block that way.
#[cfg(target_os = "linux")]
fn open_direct(path: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = OpenOptions::new().write(true).custom_flags(libc::O_DIRECT).open(path).ok()?;
    let mut probe = Aligned::default();
    file.write_all_at(probe.zeroed(BLOCK), HEADER_BYTES).ok().map(|()| file)
}

#[cfg(not(target_os = "linux"))]
fn open_direct(_path: &Path) -> Option<File> {
    None
}

/// Applies the current epoch's records to the data file, in order, and flushes it. Returns
/// the epoch.
fn replay(log: &File, data: &File) -> io::Result<u64> {
    let (epoch, format) = read_header(log)?;
    let len = log.metadata()?.len();
    let (mut at, mut seq, mut applied) = (HEADER_BYTES, 0u64, false);
    while let Some(body) = read_record(log, len, at, epoch, seq)? {
        apply_record(data, &body, format)?;
        at += match format {
            Format::Whole => RECORD_HEAD + body.len(),
            Format::Trimmed => padded(RECORD_HEAD + body.len()),
        } as u64;
        seq += 1;
        applied = true;
    }
    if applied {
        data.sync_data()?;
    }
    Ok(epoch)
}

/// Writes a record's pages into the data file.
fn apply_record(data: &File, body: &[u8], format: Format) -> io::Result<()> {
    let cut_short = || io::Error::other("a log record is cut short");
    let head_len = match format {
        Format::Whole => 16,
        Format::Trimmed => PAGE_HEAD,
    };
    let mut rest = body;
    while !rest.is_empty() {
        let head = rest.get(..head_len).ok_or_else(cut_short)?;
        let (offset, len) = (u64_at(head, 0), u64_at(head, 8));
        let kept = if format == Format::Trimmed { u64_at(head, 16) } else { len };
        let bytes = usize::try_from(kept).ok().and_then(|kept| rest[head_len..].get(..kept)).ok_or_else(cut_short)?;
        data.write_all_at(bytes, offset)?;
        // The trailing zeros the record left out.
        let (mut at, end) = (offset.saturating_add(kept), offset.saturating_add(len));
        while at < end {
            let zeros = [0u8; BLOCK];
            let n = (end - at).min(BLOCK as u64) as usize;
            data.write_all_at(&zeros[..n], at)?;
            at += n as u64;
        }
        rest = &rest[head_len + bytes.len()..];
    }
    Ok(())
}

/// The body of the record at `at` if it is whole and belongs where it is found.
fn read_record(log: &File, len: u64, at: u64, epoch: u64, seq: u64) -> io::Result<Option<Vec<u8>>> {
    let mut head = [0u8; RECORD_HEAD];
    if at + RECORD_HEAD as u64 > len {
        return Ok(None);
    }
    log.read_exact_at(&mut head, at)?;
    let body_len = u64_at(&head, 24);
    if &head[..8] != MAGIC || u64_at(&head, 8) != epoch || u64_at(&head, 16) != seq || body_len > len - at {
        return Ok(None);
    }
    let mut body = vec![0u8; body_len as usize];
    log.read_exact_at(&mut body, at + RECORD_HEAD as u64)?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(&head[..32]);
    crc.update(&body);
    Ok((crc.finalize().to_le_bytes() == head[32..36]).then_some(body))
}

fn zero_fill(log: &File, from: u64, to: u64) -> io::Result<()> {
    let zeros = vec![0u8; (to - from) as usize];
    log.write_all_at(&zeros, from)?;
    log.sync_all()
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: usize = 4096;

    fn page_at(path: &Path, index: u64) -> Vec<u8> {
        let mut page = vec![0u8; PAGE];
        File::open(path).and_then(|f| f.read_exact_at(&mut page, index * PAGE as u64)).expect("read page");
        page
    }

    /// A new data file of `pages` pages, with its log, in a directory of its own.
    fn new_file_of(pages: u64) -> Result<(tempfile::TempDir, PathBuf, LoggedFile), OpenError> {
        let dir = tempfile::tempdir()?;
        let data = dir.path().join("d.redb");
        let file = LoggedFile::open(&data)?;
        file.set_len(pages * PAGE as u64)?;
        Ok((dir, data, file))
    }

    /// The data file's unflushed writes vanish, as in a power cut: zeros over them.
    fn lose_unflushed_pages(path: &Path, pages: u64) {
        let file = OpenOptions::new().write(true).open(path).expect("open data");
        file.write_all_at(&vec![0u8; PAGE * pages as usize], 0).expect("zero data");
    }

    #[test]
    fn replay_restores_acknowledged_pages_and_stops_at_a_torn_record() -> Result<(), OpenError> {
        let (_dir, data, file) = new_file_of(2)?;
        file.sync_data()?; // a resize: a checkpoint
        file.write(0, &[1; PAGE])?;
        file.write(PAGE as u64, &[2; PAGE])?;
        file.sync_data()?;
        file.write(0, &[3; PAGE])?;
        file.sync_data()?;
        file.write(PAGE as u64, &[4; PAGE])?;
        file.sync_data()?;
        drop(file); // a crash: no close, no checkpoint

        // The last record is torn: one byte of its page differs from what was checksummed.
        let log = OpenOptions::new().read(true).write(true).open(log_path(&data))?;
        let log_len = log.metadata()?.len();
        let mut byte = [0u8];
        let torn_at = (HEADER_BYTES..log_len)
            .rev()
            .find(|&at| log.read_exact_at(&mut byte, at).is_ok() && byte[0] == 4)
            .expect("the last record's page");
        log.write_all_at(&[5], torn_at)?;
        lose_unflushed_pages(&data, 2);

        drop(LoggedFile::open(&data)?);
        assert_eq!(page_at(&data, 0), vec![3; PAGE], "the newest acknowledged page 0");
        assert_eq!(page_at(&data, 1), vec![2; PAGE], "page 1 as the last whole record left it");

        // Replayed records belong to an old epoch now: they are not applied twice.
        lose_unflushed_pages(&data, 2);
        drop(LoggedFile::open(&data)?);
        assert_eq!(page_at(&data, 0), vec![0; PAGE]);
        Ok(())
    }

    #[test]
    fn a_checkpoint_flushes_the_data_file_and_starts_the_log_over() -> Result<(), OpenError> {
        let (_dir, data, file) = new_file_of(1)?;
        file.write(0, &[7; PAGE])?;
        file.sync_data()?;
        assert_eq!(file.log().end, HEADER_BYTES, "the resize checkpointed: nothing in the log");
        for round in 0..(CAPACITY / PAGE as u64) {
            file.write(0, &[round as u8; PAGE])?;
            file.sync_data()?;
            assert!(file.log().end <= CAPACITY);
        }
        let epoch = file.log().epoch;
        assert!(epoch > 1, "a full log checkpointed");

        // One commit larger than the log: its pages are not copied, and its flush checkpoints.
        for page in 0..(CAPACITY / PAGE as u64 + 8) {
            file.write(page * PAGE as u64, &[9; PAGE])?;
        }
        assert!(file.log().pending.is_empty());
        file.sync_data()?;
        assert_eq!(file.log().epoch, epoch + 1);
        let epoch = epoch + 1;
        file.close()?;
        assert_eq!(read_header(&File::open(log_path(&data))?)?.0, epoch + 1, "close checkpoints too");
        Ok(())
    }

    #[test]
    fn replay_puts_back_the_trailing_zeros_a_record_leaves_out() -> Result<(), OpenError> {
        let (_dir, data, file) = new_file_of(1)?;
        file.write(0, &[7; PAGE])?;
        file.sync_data()?; // a checkpoint: the sevens are in the data file for good
        let mut page = vec![0u8; PAGE];
        page[..3].copy_from_slice(&[1, 2, 3]);
        file.write(0, &page)?;
        file.sync_data()?;
        assert!(file.log().end <= HEADER_BYTES + BLOCK as u64, "the zeros are not in the log");
        drop(file);

        // The unflushed write is lost: the data file still holds the sevens.
        let raw = OpenOptions::new().write(true).open(&data)?;
        raw.write_all_at(&[7; PAGE], 0)?;
        drop(LoggedFile::open(&data)?);
        assert_eq!(page_at(&data, 0), page);
        Ok(())
    }

    #[test]
    fn a_log_in_the_first_format_is_replayed() -> Result<(), OpenError> {
        let dir = tempfile::tempdir()?;
        let data = dir.path().join("d.redb");
        let log = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(log_path(&data))?;
        let mut header = MAGIC.to_vec();
        header.extend_from_slice(&3u64.to_le_bytes());
        header.extend_from_slice(&crc32fast::hash(&header).to_le_bytes());
        log.write_all_at(&header, 0)?;
        // Two records back to back, each page whole.
        let mut at = HEADER_BYTES;
        for (seq, fill) in [(0u64, 1u8), (1, 2)] {
            let mut body = (seq * PAGE as u64).to_le_bytes().to_vec();
            body.extend_from_slice(&(PAGE as u64).to_le_bytes());
            body.extend_from_slice(&[fill; PAGE]);
            let mut head = MAGIC.to_vec();
            for word in [3, seq, body.len() as u64] {
                head.extend_from_slice(&word.to_le_bytes());
            }
            let mut crc = crc32fast::Hasher::new();
            crc.update(&head);
            crc.update(&body);
            head.extend_from_slice(&crc.finalize().to_le_bytes());
            log.write_all_at(&[head, body].concat(), at)?;
            at += (RECORD_HEAD + 16 + PAGE) as u64;
        }
        drop(log);

        drop(LoggedFile::open(&data)?);
        assert_eq!((page_at(&data, 0), page_at(&data, 1)), (vec![1; PAGE], vec![2; PAGE]));
        assert_eq!(read_header(&File::open(log_path(&data))?)?, (4, Format::Trimmed), "then the log is rewritten");
        Ok(())
    }

    #[test]
    fn trailing_zeros_are_found_in_any_length() {
        for len in [0, 1, 63, 64, 65, 320, PAGE] {
            for last in (0..len).step_by(7).chain(len.checked_sub(1)) {
                let mut page = vec![0u8; len];
                page[last] = 9;
                if last > 0 {
                    page[0] = 1;
                }
                assert_eq!(without_trailing_zeros(&page), last + 1, "len {len}, last non-zero byte at {last}");
            }
            assert_eq!(without_trailing_zeros(&vec![0u8; len]), 0);
        }
    }

    #[test]
    fn one_process_at_a_time() -> Result<(), OpenError> {
        let dir = tempfile::tempdir()?;
        let data = dir.path().join("d.redb");
        let first = LoggedFile::open(&data)?;
        assert!(matches!(LoggedFile::open(&data), Err(OpenError::Locked)));
        drop(first);
        LoggedFile::open(&data).map(drop)
    }
}
