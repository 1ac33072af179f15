//! Asking the nameserver: the real `dig`, and hickory's message types over plain sockets.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::Command;
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};

/// What dig printed: status, header flags, and the records of each section as
/// (owner, ttl, type, data) with the owner as printed.
#[derive(Debug)]
pub struct Dig {
    pub status: String,
    pub flags: Vec<String>,
    pub answer: Vec<(String, u32, String, String)>,
    pub authority: Vec<(String, u32, String, String)>,
    pub additional: Vec<(String, u32, String, String)>,
    pub raw: String,
}

impl Dig {
    pub fn aa(&self) -> bool {
        self.flags.iter().any(|f| f == "aa")
    }

    pub fn tc(&self) -> bool {
        self.flags.iter().any(|f| f == "tc")
    }

    /// The data of the answer records of one type.
    pub fn data(&self, rtype: &str) -> Vec<String> {
        let mut out: Vec<String> = self.answer.iter().filter(|r| r.2 == rtype).map(|r| r.3.clone()).collect();
        out.sort();
        out
    }

    pub fn soa_in_authority(&self) -> Option<u32> {
        self.authority.iter().find(|r| r.2 == "SOA").map(|r| r.1)
    }
}

pub fn dig(server: SocketAddr, args: &[&str]) -> Dig {
    let out = Command::new("dig")
        .arg(format!("@{}", server.ip()))
        .arg("-p")
        .arg(server.port().to_string())
        .args(["+norec", "+time=2", "+tries=2", "+nocmd", "+nostats", "+noquestion"])
        .args(args)
        .output()
        .expect("dig is installed (bash .ci/run installs bind9-dnsutils)");
    let raw = String::from_utf8_lossy(&out.stdout).into_owned();
    parse(&raw)
}

fn parse(raw: &str) -> Dig {
    let mut dig = Dig {
        status: String::new(),
        flags: Vec::new(),
        answer: Vec::new(),
        authority: Vec::new(),
        additional: Vec::new(),
        raw: raw.to_string(),
    };
    let mut section = "";
    for line in raw.lines() {
        if let Some(rest) = line.split("status: ").nth(1) {
            dig.status = rest.split(',').next().unwrap_or_default().to_string();
        } else if let Some(rest) = line.strip_prefix(";; flags: ") {
            dig.flags = rest.split(';').next().unwrap_or_default().split_whitespace().map(String::from).collect();
        } else if line.starts_with(";; ANSWER SECTION") {
            section = "answer";
        } else if line.starts_with(";; AUTHORITY SECTION") {
            section = "authority";
        } else if line.starts_with(";; ADDITIONAL SECTION") {
            section = "additional";
        } else if !line.starts_with(';') && !line.trim().is_empty() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() >= 5 {
                let record = (
                    fields[0].to_string(),
                    fields[1].parse().unwrap_or(0),
                    fields[3].to_string(),
                    fields[4..].join(" "),
                );
                match section {
                    "answer" => dig.answer.push(record),
                    "authority" => dig.authority.push(record),
                    "additional" => dig.additional.push(record),
                    // +noall +answer output (e.g. AXFR) has no section headers.
                    _ => dig.answer.push(record),
                }
            }
        }
    }
    dig
}

pub fn message(name: &str, rtype: RecordType) -> Message {
    let mut m = Message::new(rand::random(), MessageType::Query, OpCode::Query);
    m.add_query(Query::query(Name::from_ascii(name).expect("name"), rtype));
    m
}

pub fn with_edns(mut m: Message, payload: u16, version: u8) -> Message {
    let mut edns = Edns::new();
    edns.set_max_payload(payload);
    edns.set_version(version);
    m.set_edns(edns);
    m
}

/// One UDP exchange with raw bytes; None if no answer came within a second.
pub fn udp_raw(server: SocketAddr, bytes: &[u8]) -> Option<Vec<u8>> {
    let socket = UdpSocket::bind("127.0.0.1:0").ok()?;
    socket.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    socket.send_to(bytes, server).ok()?;
    let mut buf = vec![0u8; 65535];
    let (len, _) = socket.recv_from(&mut buf).ok()?;
    buf.truncate(len);
    Some(buf)
}

pub fn udp(server: SocketAddr, m: &Message) -> Message {
    let answer = udp_raw(server, &m.to_vec().expect("encode")).expect("an answer over UDP");
    Message::from_vec(&answer).expect("a well-formed answer")
}

/// Several queries written back to back on one TCP connection, then every answer read.
pub fn tcp_pipelined(server: SocketAddr, messages: &[Message]) -> Vec<Message> {
    let mut stream = TcpStream::connect(server).expect("tcp connect");
    stream.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    let mut out = Vec::new();
    for m in messages {
        let bytes = m.to_vec().expect("encode");
        out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
        out.extend_from_slice(&bytes);
    }
    stream.write_all(&out).expect("write");
    (0..messages.len()).map(|_| read_tcp(&mut stream)).collect()
}

pub fn read_tcp(stream: &mut TcpStream) -> Message {
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).expect("length");
    let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
    stream.read_exact(&mut buf).expect("message");
    Message::from_vec(&buf).expect("well-formed")
}
