//! DNS over TCP under pressure: 500 idle connections, from one address and from many, with
//! the open-file limit a default systemd service starts with scaled down to a few hundred,
//! do not keep a new client from its answer.

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

#[test]
fn idle_connections_do_not_shut_out_new_clients() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nsbox.redb");
    let token = offline_token(&data);
    let port = free_port();
    let dns = SocketAddr::from(([127, 0, 0, 1], port));
    // 300 descriptors in all: without limits, 500 idle connections would take every one.
    let mut command = Command::new("prlimit");
    command.args(["--nofile=300:300", "--", env!("CARGO_BIN_EXE_nsbox"), "--data"]).arg(&data);
    let served = Served::start_with(command, &token, &["--dns", &dns.to_string()]);
    let (status, zone) = served.call("POST", "/api/v1/dns-zones/", Some(serde_json::json!({"domain": "example.com"})));
    assert_eq!(status, 201, "{zone}");
    served.add_records(zone["uuid"].as_str().unwrap(), 0, 1);

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
    let source = "127.0.2.1";
    for transport in ["+tcp", "+notcp"] {
        let answer = dig(dns, &["-b", source, transport, "h0.example.com", "A"]);
        assert_eq!(answer.data("A"), ["192.0.2.7"], "{transport}: {}", answer.raw);
    }
    let open = crowd.iter().filter(|s| !closed(s)).count();
    assert!(open < 300, "the server made room by closing idle connections ({open} still open)");
    drop((greedy, crowd));
    served.kill();
}
