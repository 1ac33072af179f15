//! Idle connections under a small open-file limit (a default systemd service's, scaled down
//! to 300): 500 idle DNS TCP connections, from one address and from many, do not keep a new
//! client from its answer, and 400 idle HTTP connections do not take the descriptors the
//! nameserver needs.

use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

use socket2::{Domain, Socket, Type};

use crate::dig::dig;
use crate::process::{Served, offline_token};
use crate::transfer::free_port;

/// A TCP connection to `server` from `source`, or None when the server will not take it.
fn connect_from(source: [u8; 4], server: SocketAddr) -> Option<TcpStream> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).ok()?;
    socket.bind(&SocketAddr::from((source, 0)).into()).ok()?;
    socket.connect_timeout(&server.into(), Duration::from_secs(2)).ok()?;
    Some(socket.into())
}

/// Whether the server has closed this connection.
fn closed(stream: &TcpStream) -> bool {
    stream.set_read_timeout(Some(Duration::from_millis(20))).ok();
    match std::io::Read::read(&mut &*stream, &mut [0u8; 1]) {
        Ok(n) => n == 0,
        Err(e) => matches!(e.kind(), std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe),
    }
}

/// nsbox with 300 descriptors in all (a default systemd service's 1024, scaled down), serving
/// h0.example.com on `dns`.
fn start_with_few_descriptors(dir: &std::path::Path, dns: SocketAddr) -> Served {
    let data = dir.join("nsbox.redb");
    let token = offline_token(&data);
    let mut command = Command::new("prlimit");
    command.args(["--nofile=300:300", "--", env!("CARGO_BIN_EXE_nsbox"), "--data"]).arg(&data);
    let served = Served::start_with(command, &token, &["--dns", &dns.to_string()]);
    let (status, zone) = served.call("POST", "/api/v1/dns-zones/", Some(serde_json::json!({"domain": "example.com"})));
    assert_eq!(status, 201, "{zone}");
    served.add_records(zone["uuid"].as_str().unwrap(), 0, 1);
    served
}

fn answered(dns: SocketAddr, source: &str) {
    for transport in ["+tcp", "+notcp"] {
        let answer = dig(dns, &["-b", source, transport, "h0.example.com", "A"]);
        assert_eq!(answer.data("A"), ["192.0.2.7"], "{transport}: {}", answer.raw);
    }
}

#[test]
fn idle_connections_do_not_shut_out_new_clients() {
    let dir = tempfile::tempdir().unwrap();
    let dns = SocketAddr::from(([127, 0, 0, 1], free_port()));
    // Without limits, 500 idle connections would take every descriptor.
    let served = start_with_few_descriptors(dir.path(), dns);

    // One address holding many connections gets its share and no more.
    let greedy: Vec<TcpStream> = (0..100).filter_map(|_| connect_from([127, 0, 0, 1], dns)).collect();
    std::thread::sleep(Duration::from_millis(300));
    let kept = greedy.iter().filter(|s| !closed(s)).count();
    assert!(kept <= 20, "one address keeps {kept} connections open");

    // 500 idle connections from 50 addresses, each within its share.
    let crowd: Vec<TcpStream> = (0..500).filter_map(|i| connect_from([127, 0, 1, (i / 10 + 1) as u8], dns)).collect();
    assert!(crowd.len() >= 450, "the connections were made ({})", crowd.len());
    std::thread::sleep(Duration::from_millis(300));

    // A new client is answered, over TCP and over UDP.
    answered(dns, "127.0.2.1");
    let open = crowd.iter().filter(|s| !closed(s)).count();
    assert!(open < 300, "the server made room by closing idle connections ({open} still open)");
    drop((greedy, crowd));
    served.kill();
}

#[test]
fn idle_http_connections_leave_the_nameserver_its_descriptors() {
    let dir = tempfile::tempdir().unwrap();
    let dns = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let served = start_with_few_descriptors(dir.path(), dns);
    let http: SocketAddr = served.base.trim_start_matches("http://").parse().unwrap();
    // More idle connections than the process has descriptors: the kernel queues what the
    // server does not take.
    let idle: Vec<TcpStream> = (0..400).filter_map(|i| connect_from([127, 0, 3, (i / 20 + 1) as u8], http)).collect();
    assert!(idle.len() > 300, "{} connections", idle.len());
    std::thread::sleep(Duration::from_millis(500));
    let descriptors = std::fs::read_dir(format!("/proc/{}/fd", served.child.id())).unwrap().count();
    assert!(descriptors < 150, "HTTP took {descriptors} of the 300 descriptors");
    answered(dns, "127.0.2.1");
    drop(idle);
    assert_eq!(served.call("GET", "/api/v1/me", None).0, 200, "the API serves once they are gone");
    served.kill();
}
