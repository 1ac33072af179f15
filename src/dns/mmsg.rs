//! Datagrams in batches: `recvmmsg` takes up to `BATCH` queries in one system call and
//! `sendmmsg` sends their answers in one, as Knot does. Under load most of a nameserver's time
//! is the kernel's; one call and one wake-up per batch instead of per datagram is the saving.
//! The only unsafe code of the nameserver is here, in two calls with locally built arrays.
//! The flags are cast with `as _`: glibc declares them `int`, musl `unsigned int`.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;

/// Datagrams per system call.
pub const BATCH: usize = 32;
/// Room per received datagram: a query is far smaller; a larger datagram arrives cut off,
/// flagged, and is answered FORMERR.
pub const DATAGRAM: usize = 4096;

/// Buffers for one batch of received datagrams. Plain data, so the receive loop's future
/// stays `Send`; the kernel's pointer structures exist only inside `receive`.
pub struct Inbox {
    buffers: Vec<u8>,
    sources: Vec<libc::sockaddr_storage>,
    received: Vec<(usize, bool)>,
}

impl Inbox {
    pub fn new() -> Self {
        // SAFETY: sockaddr_storage is plain old data; all zeroes is a valid value.
        let empty: libc::sockaddr_storage = unsafe { zeroed() };
        Inbox { buffers: vec![0; BATCH * DATAGRAM], sources: vec![empty; BATCH], received: Vec::with_capacity(BATCH) }
    }

    /// Receives what is waiting, up to a batch, without blocking (`WouldBlock` when nothing is).
    pub fn receive(&mut self, fd: RawFd) -> io::Result<usize> {
        // SAFETY: iovec and mmsghdr are plain C structs; zeroed is their empty value.
        let mut vectors: [libc::iovec; BATCH] = unsafe { zeroed() };
        let mut headers: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
        for (i, (vector, header)) in vectors.iter_mut().zip(headers.iter_mut()).enumerate() {
            vector.iov_base = self.buffers[i * DATAGRAM..].as_mut_ptr().cast();
            vector.iov_len = DATAGRAM;
            header.msg_hdr.msg_name = (&raw mut self.sources[i]).cast();
            header.msg_hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            header.msg_hdr.msg_iov = vector;
            header.msg_hdr.msg_iovlen = 1;
        }
        // SAFETY: every header points at a live buffer of DATAGRAM bytes and a live address
        // slot, all borrowed mutably from self for the duration of the call.
        let count = unsafe {
            libc::recvmmsg(
                fd,
                headers.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_DONTWAIT as _,
                std::ptr::null_mut(),
            )
        };
        if count < 0 {
            return Err(io::Error::last_os_error());
        }
        let count = count as usize;
        self.received.clear();
        self.received
            .extend(headers[..count].iter().map(|h| (h.msg_len as usize, h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0)));
        Ok(count)
    }

    /// The datagrams of the last `receive`: bytes, whether they were cut off, and sender.
    pub fn datagrams(&self) -> impl Iterator<Item = (&[u8], bool, Option<SocketAddr>)> {
        self.received.iter().enumerate().map(|(i, &(len, truncated))| {
            let bytes = &self.buffers[i * DATAGRAM..i * DATAGRAM + len.min(DATAGRAM)];
            (bytes, truncated, socket_addr(&self.sources[i]))
        })
    }
}

/// Sends as many of `answers` as the socket takes now, in order; returns how many went.
pub fn send(fd: RawFd, answers: &[(SocketAddr, Vec<u8>)]) -> io::Result<usize> {
    let count = answers.len().min(BATCH);
    if count == 0 {
        return Ok(0);
    }
    let mut targets: Vec<(libc::sockaddr_storage, libc::socklen_t)> =
        answers[..count].iter().map(|(peer, _)| sockaddr(peer)).collect();
    // SAFETY: plain C structs, zeroed is their empty value.
    let mut vectors: [libc::iovec; BATCH] = unsafe { zeroed() };
    let mut headers: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
    for (i, (_, bytes)) in answers[..count].iter().enumerate() {
        vectors[i].iov_base = bytes.as_ptr().cast_mut().cast();
        vectors[i].iov_len = bytes.len();
        headers[i].msg_hdr.msg_name = (&raw mut targets[i].0).cast();
        headers[i].msg_hdr.msg_namelen = targets[i].1;
        headers[i].msg_hdr.msg_iov = &raw mut vectors[i];
        headers[i].msg_hdr.msg_iovlen = 1;
    }
    // SAFETY: the headers point at the answers' bytes (only read) and at live addresses.
    let sent = unsafe { libc::sendmmsg(fd, headers.as_mut_ptr(), count as libc::c_uint, libc::MSG_DONTWAIT as _) };
    if sent < 0 { Err(io::Error::last_os_error()) } else { Ok(sent as usize) }
}

fn socket_addr(storage: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match libc::c_int::from(storage.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in, which it is large enough for.
            let v4 = unsafe { &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(u32::from_be(v4.sin_addr.s_addr));
            Some(SocketAddr::V4(SocketAddrV4::new(ip, u16::from_be(v4.sin_port))))
        }
        libc::AF_INET6 => {
            // SAFETY: as above, for sockaddr_in6.
            let v6 = unsafe { &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            let ip = Ipv6Addr::from(v6.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(ip, u16::from_be(v6.sin6_port), v6.sin6_flowinfo, v6.sin6_scope_id)))
        }
        _ => None,
    }
}

fn sockaddr(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: plain old data; all zeroes is valid.
    let mut storage: libc::sockaddr_storage = unsafe { zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            // SAFETY: sockaddr_storage is large and aligned enough for any sockaddr.
            let v4 = unsafe { &mut *(&raw mut storage).cast::<libc::sockaddr_in>() };
            v4.sin_family = libc::AF_INET as libc::sa_family_t;
            v4.sin_port = a.port().to_be();
            v4.sin_addr.s_addr = u32::from(*a.ip()).to_be();
            size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            // SAFETY: as above.
            let v6 = unsafe { &mut *(&raw mut storage).cast::<libc::sockaddr_in6>() };
            v6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            v6.sin6_port = a.port().to_be();
            v6.sin6_addr.s6_addr = a.ip().octets();
            v6.sin6_flowinfo = a.flowinfo();
            v6.sin6_scope_id = a.scope_id();
            size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}
