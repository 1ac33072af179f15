//! A simulated disk for the crash tests: a `StorageBackend` that keeps what the process sees
//! (the page cache) apart from what a flush has made durable, records every write, resize and
//! flush in order, and can fail one of them as Linux does.
//!
//! From the record, `crash_image` rebuilds the file as a crash at any point would leave it:
//! after a kill, every write the process made (the page cache survives); after a power loss,
//! what the last flush made durable plus any subset of the writes since, each possibly torn
//! into a subset of its 512-byte sectors. A failed flush loses the writes it covered for good
//! — Linux marks their pages clean — and the next flush succeeds ("fsyncgate").

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use rand::Rng;
use redb::StorageBackend;

const SECTOR: usize = 512;

#[derive(Debug, Clone)]
pub enum Op {
    Write { offset: u64, data: Vec<u8> },
    SetLen(u64),
}

#[derive(Debug, Clone)]
pub enum Event {
    Op(Op),
    /// A successful flush: every op before it is durable.
    Sync,
    /// A failed flush: the ops since the last flush never reach the disk.
    SyncFailed,
    /// The store acknowledged commit number n (the test's marker).
    Ack(usize),
}

/// Which call fails, counted over writes, resizes and flushes together from 0, and how.
#[derive(Debug, Clone, Copy)]
pub struct Fault {
    pub at_call: usize,
    pub errno: i32,
}

#[derive(Debug, Default)]
struct State {
    /// What the disk held when the simulation began.
    start: Vec<u8>,
    /// What reads see.
    cache: Vec<u8>,
    trace: Vec<Event>,
    calls: usize,
    fault: Option<Fault>,
}

#[derive(Debug, Clone, Default)]
pub struct SimDisk(Arc<Mutex<State>>);

impl SimDisk {
    /// A disk holding `image`, durably, that fails as `fault` says.
    pub fn with(image: Vec<u8>, fault: Option<Fault>) -> Self {
        let state = State { start: image.clone(), cache: image, fault, ..State::default() };
        Self(Arc::new(Mutex::new(state)))
    }

    /// The file as the disk holds it now: what flushes made durable (once the process is
    /// gone, the page cache may drop the rest at any time).
    pub fn durable_image(&self) -> Vec<u8> {
        let state = self.state();
        let trace = &state.trace;
        let last_flush = trace.iter().rposition(|e| matches!(e, Event::Sync | Event::SyncFailed)).map_or(0, |i| i + 1);
        crash_image(state.start.clone(), trace, last_flush, Crash::Kill, &mut rand::rng()).0
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn ack(&self, commit: usize) {
        self.state().trace.push(Event::Ack(commit));
    }

    pub fn trace(&self) -> Vec<Event> {
        self.state().trace.clone()
    }

    /// Calls made so far (writes, resizes, flushes).
    pub fn calls(&self) -> usize {
        self.state().calls
    }

    /// Whether this call is the one to fail.
    fn fails(state: &mut State) -> Option<io::Error> {
        let call = state.calls;
        state.calls += 1;
        let fault = state.fault.filter(|f| f.at_call == call)?;
        Some(io::Error::from_raw_os_error(fault.errno))
    }
}

impl StorageBackend for SimDisk {
    fn len(&self) -> Result<u64, io::Error> {
        Ok(self.state().cache.len() as u64)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        let state = self.state();
        let start = offset as usize;
        let bytes = state.cache.get(start..start + out.len()).ok_or_else(|| io::Error::other("read past the end"))?;
        out.copy_from_slice(bytes);
        Ok(())
    }

    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        let mut state = self.state();
        if let Some(e) = Self::fails(&mut state) {
            return Err(e);
        }
        state.cache.resize(len as usize, 0);
        state.trace.push(Event::Op(Op::SetLen(len)));
        Ok(())
    }

    fn sync_data(&self) -> Result<(), io::Error> {
        let mut state = self.state();
        if let Some(e) = Self::fails(&mut state) {
            state.trace.push(Event::SyncFailed);
            return Err(e);
        }
        state.trace.push(Event::Sync);
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        let mut state = self.state();
        if let Some(e) = Self::fails(&mut state) {
            return Err(e);
        }
        apply(&mut state.cache, &Op::Write { offset, data: data.to_vec() });
        state.trace.push(Event::Op(Op::Write { offset, data: data.to_vec() }));
        Ok(())
    }
}

fn apply(image: &mut Vec<u8>, op: &Op) {
    match op {
        Op::SetLen(len) => image.resize(*len as usize, 0),
        Op::Write { offset, data } => {
            let end = *offset as usize + data.len();
            if image.len() < end {
                image.resize(end, 0);
            }
            image[*offset as usize..end].copy_from_slice(data);
        }
    }
}

/// How a crash treats the writes no flush has covered yet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Crash {
    /// The process dies; the kernel keeps and later writes every one.
    Kill,
    /// The machine loses power: any subset survives, 30 % of the survivors torn.
    PowerLoss,
}

/// The file that began as `start` as a crash after the first `cut` events of `trace` leaves
/// it, and the commits acknowledged by then.
pub fn crash_image(start: Vec<u8>, trace: &[Event], cut: usize, crash: Crash, rng: &mut impl Rng) -> (Vec<u8>, usize) {
    let mut durable = start;
    let mut pending: Vec<&Op> = Vec::new();
    let mut acknowledged = 0;
    for event in &trace[..cut] {
        match event {
            Event::Op(op) => pending.push(op),
            Event::Sync => pending.drain(..).for_each(|op| apply(&mut durable, op)),
            Event::SyncFailed => pending.clear(),
            Event::Ack(n) => acknowledged = n + 1,
        }
    }
    for op in pending {
        match (crash, op) {
            (Crash::Kill, op) => apply(&mut durable, op),
            (Crash::PowerLoss, _) if rng.random_bool(0.5) => {}
            (Crash::PowerLoss, Op::Write { offset, data }) if rng.random_bool(0.3) => {
                for (i, sector) in data.chunks(SECTOR).enumerate() {
                    if rng.random_bool(0.5) {
                        let op = Op::Write { offset: offset + (i * SECTOR) as u64, data: sector.to_vec() };
                        apply(&mut durable, &op);
                    }
                }
            }
            (Crash::PowerLoss, op) => apply(&mut durable, op),
        }
    }
    (durable, acknowledged)
}
