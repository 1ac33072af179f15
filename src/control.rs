//! The local control socket, `<data file>.sock`: the server holds its data file exclusively
//! (a shared file costs a second fsync per commit), so `nsbox backup` asks the running server
//! for its consistent copy here. Only the data file's owner can connect (mode 0600), the same
//! trust as reading the file itself.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use anyhow::Context;

use crate::service::Service;

pub fn socket_path(data: &Path) -> PathBuf {
    let mut path = data.as_os_str().to_owned();
    path.push(".sock");
    PathBuf::from(path)
}

/// Binds the socket of a data file this process has opened (so a socket file left there is a
/// crashed server's).
pub fn bind(data: &Path) -> anyhow::Result<UnixListener> {
    let path = socket_path(data);
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).with_context(|| format!("cannot create {}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// The running control socket.
pub struct Control {
    path: PathBuf,
    stopping: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

pub fn serve(listener: UnixListener, service: Arc<Service>) -> anyhow::Result<Control> {
    let path = listener.local_addr()?.as_pathname().map(Path::to_path_buf).context("an unnamed control socket")?;
    let stopping = Arc::new(AtomicBool::new(false));
    let stop = stopping.clone();
    let thread = std::thread::Builder::new().name("nsbox-control".into()).spawn(move || {
        for stream in listener.incoming() {
            if stop.load(Ordering::Acquire) {
                break;
            }
            if let Ok(stream) = stream {
                answer(stream, &service);
            }
        }
    })?;
    Ok(Control { path, stopping, thread })
}

/// One request per connection: `backup <absolute path>`; the answer is `ok` or `error <why>`.
fn answer(stream: UnixStream, service: &Service) {
    let mut line = String::new();
    if BufReader::new(&stream).read_line(&mut line).is_err() {
        return;
    }
    let reply = match line.trim_end().split_once(' ') {
        Some(("backup", out)) => match service.store().backup_to(Path::new(out)) {
            Ok(()) => "ok".to_string(),
            Err(e) => format!("error {e}"),
        },
        _ => "error unknown request".to_string(),
    };
    let _ = writeln!(&stream, "{reply}");
}

impl Control {
    pub fn stop(self) {
        self.stopping.store(true, Ordering::Release);
        // A connection wakes the accept loop. Should the socket file be gone (removed by hand),
        // nothing can: the thread is left to end with the process rather than hang the stop.
        if UnixStream::connect(&self.path).is_ok() {
            let _ = self.thread.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Asks the server running on `data` to write a consistent copy to `out`.
pub fn request_backup(data: &Path, out: &Path) -> anyhow::Result<()> {
    let path = socket_path(data);
    let out = std::path::absolute(out)?;
    anyhow::ensure!(!out.as_os_str().as_encoded_bytes().contains(&b'\n'), "a backup path cannot hold a line break");
    let stream = UnixStream::connect(&path).with_context(|| format!("no server answers on {}", path.display()))?;
    writeln!(&stream, "backup {}", out.display())?;
    let mut reply = String::new();
    BufReader::new(&stream).read_line(&mut reply)?;
    match reply.trim_end() {
        "ok" => Ok(()),
        other => anyhow::bail!("the server could not back up: {}", other.strip_prefix("error ").unwrap_or(other)),
    }
}
