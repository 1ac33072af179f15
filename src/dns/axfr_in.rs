//! Pulling a zone from a running server by AXFR, for a migration in one step, optionally
//! signed with TSIG (every answer message is then verified). The zone comes back as zone-file
//! text, so the one importer takes it from there: the same validation, TTL policy, warnings
//! and dropped signatures as a pasted file.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::tsig::TsigAlgorithm;
use hickory_proto::rr::{Name, RecordType, TSigner};

use super::convert::rdata_bytes;
use crate::domain::rdata;

/// How long a whole transfer may take, and how much it may bring.
const DEADLINE: Duration = Duration::from_secs(120);
const MAX_BYTES: usize = 64 << 20;

/// `zone` as `server` (`host:port`, port 53 if left out) sends it, as zone-file text. `tsig`
/// is `NAME:ALGORITHM:BASE64-SECRET`. Without `local_allowed`, loopback, private and
/// link-local addresses are refused: a user must not make the server probe its own network.
/// Errors say what went wrong for a person.
pub fn fetch(server: &str, zone: &str, tsig: Option<&str>, local_allowed: bool) -> Result<String, String> {
    let addr = resolve(server)?;
    if !local_allowed && is_local(addr.ip()) {
        return Err(format!("{addr} is a local or private address: only an administrator may pull from it"));
    }
    let origin = Name::from_ascii(format!("{}.", zone.trim_end_matches('.'))).map_err(|e| format!("zone name: {e}"))?;
    let mut request = Message::new(rand::random(), MessageType::Query, OpCode::Query);
    request.add_query(Query::query(origin, RecordType::AXFR));
    let mut verifier = match tsig {
        Some(spec) => {
            let signer = signer(spec)?;
            let now = u64::try_from(crate::domain::now()).unwrap_or(0);
            request.finalize(&signer, now).map_err(|e| format!("cannot sign the request: {e}"))?
        }
        None => None,
    };
    let started = Instant::now();
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(|e| e.to_string())?;
    let bytes = request.to_vec().map_err(|e| e.to_string())?;
    let len = u16::try_from(bytes.len()).map_err(|_| "request too long")?;
    stream.write_all(&[&len.to_be_bytes()[..], &bytes].concat()).map_err(|e| format!("cannot send to {addr}: {e}"))?;

    let (mut lines, mut soas, mut received) = (Vec::new(), 0, 0usize);
    while soas < 2 {
        if started.elapsed() > DEADLINE || received > MAX_BYTES {
            return Err(format!("the transfer from {addr} took too long or brought too much"));
        }
        let mut head = [0u8; 2];
        stream.read_exact(&mut head).map_err(|e| format!("the transfer from {addr} ended early: {e}"))?;
        let mut body = vec![0u8; usize::from(u16::from_be_bytes(head))];
        stream.read_exact(&mut body).map_err(|e| format!("the transfer from {addr} ended early: {e}"))?;
        received += body.len();
        if let Some(v) = verifier.as_mut() {
            v.verify(&body).map_err(|e| format!("the answer's TSIG does not verify: {e}"))?;
        }
        let message = Message::from_vec(&body).map_err(|e| format!("a malformed answer: {e}"))?;
        if message.metadata.response_code != ResponseCode::NoError {
            return Err(format!("{addr} refused the transfer: {}", message.metadata.response_code));
        }
        if message.answers.is_empty() {
            return Err(format!("{addr} sent an empty answer: is it authoritative for {zone}?"));
        }
        for record in &message.answers {
            if record.record_type() == RecordType::SOA {
                soas += 1;
                continue;
            }
            lines.push(zone_file_line(record)?);
        }
    }
    Ok(lines.concat())
}

fn resolve(server: &str) -> Result<SocketAddr, String> {
    let with_port =
        if server.parse::<SocketAddr>().is_ok() || server.rsplit_once(':').is_some_and(|(h, _)| !h.contains(':')) {
            server.to_string()
        } else {
            format!("{server}:53")
        };
    with_port
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| format!("'{server}' is not a server address"))
}

fn is_local(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified(),
        std::net::IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

fn signer(spec: &str) -> Result<TSigner, String> {
    let mut parts = spec.splitn(3, ':');
    let (Some(name), Some(algorithm), Some(secret)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("TSIG is NAME:ALGORITHM:SECRET, e.g. xfr.example.net:hmac-sha256:c2VjcmV0".into());
    };
    let algorithm = match algorithm.to_ascii_lowercase().as_str() {
        "hmac-sha256" => TsigAlgorithm::HmacSha256,
        "hmac-sha384" => TsigAlgorithm::HmacSha384,
        "hmac-sha512" => TsigAlgorithm::HmacSha512,
        other => return Err(format!("TSIG algorithm '{other}': use hmac-sha256, hmac-sha384 or hmac-sha512")),
    };
    let secret = rdata::text::unbase64(secret)?;
    let name =
        Name::from_ascii(format!("{}.", name.trim_end_matches('.'))).map_err(|e| format!("TSIG key name: {e}"))?;
    TSigner::new(secret, algorithm, name, 300).map_err(|e| format!("TSIG key: {e}"))
}

/// One record as a zone-file line, its data printed by the type's one definition.
fn zone_file_line(record: &hickory_proto::rr::Record) -> Result<String, String> {
    let rtype = rdata::RecordType(u16::from(record.record_type()));
    let bytes = rdata_bytes(&record.data).ok_or("a record that cannot be encoded")?;
    let data = rdata::print(rtype, &bytes, true).unwrap_or_else(|_| rdata::print_generic(&bytes));
    let type_name = rdata::type_name(rtype.0);
    Ok(format!("{} {} IN {type_name} {data}\n", record.name.to_ascii(), record.ttl))
}
