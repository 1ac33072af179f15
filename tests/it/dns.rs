//! The nameserver, queried over real sockets with dig and with hickory's messages: every
//! behaviour Knot shows for the same zone.

use hickory_proto::op::{OpCode, ResponseCode};
use hickory_proto::rr::RecordType;
use serde_json::json;

use crate::dig::{self, dig};
use crate::support::Server;

/// A zone with a bit of everything, created through the API.
fn zone(s: &Server) -> (String, String) {
    let t = s.user_token("dns-user", &[], &[]);
    let z = s.zone(&t, "example.com");
    let records = json!([
        {"type": "A", "name": "@", "content": "192.0.2.1", "ttl": 300},
        {"type": "A", "name": "www", "content": "192.0.2.80", "ttl": 300},
        {"type": "AAAA", "name": "www", "content": "2001:db8::80", "ttl": 300},
        {"type": "MX", "name": "@", "content": "mail.example.com", "priority": 10, "ttl": 3600},
        {"type": "A", "name": "mail", "content": "192.0.2.25"},
        {"type": "TXT", "name": "@", "content": "v=spf1 mx -all"},
        {"type": "CNAME", "name": "alias", "content": "www.example.com"},
        {"type": "CNAME", "name": "chain", "content": "alias.example.com"},
        {"type": "CNAME", "name": "dangling", "content": "gone.example.com"},
        {"type": "CNAME", "name": "outside", "content": "www.example.net"},
        {"type": "A", "name": "*.wild", "content": "203.0.113.99"},
        {"type": "TXT", "name": "*.wild", "content": "wildcard"},
        {"type": "A", "name": "host.wild", "content": "192.0.2.7"},
        {"type": "A", "name": "deep.ent.below", "content": "192.0.2.8"},
        {"type": "NS", "name": "sub", "content": "ns1.sub.example.com", "ttl": 86400},
        {"type": "NS", "name": "sub", "content": "ns2.sub.example.com", "ttl": 86400},
        {"type": "A", "name": "ns1.sub", "content": "192.0.2.53", "ttl": 86400},
        {"type": "A", "name": "ns2.sub", "content": "192.0.2.54", "ttl": 86400},
        {"type": "SRV", "name": "_sip._tcp", "content": "10 60 5060 www.example.com"},
        {"type": "CAA", "name": "@", "content": "0 issue \"letsencrypt.org\""},
        {"type": "TXT", "name": "big", "content": "x".repeat(1500)},
    ]);
    let r = s.post(&format!("/api/v1/domains/{z}/dns/bulk"), &t, json!({"records": records}));
    assert_eq!(r.body["errors"], json!([]), "{}", r.text);
    (t, z)
}

#[test]
fn answers_are_authoritative_and_live() {
    let s = Server::start();
    let (t, z) = zone(&s);
    let a = dig(s.dns, &["www.example.com", "A"]);
    assert_eq!((a.status.as_str(), a.aa()), ("NOERROR", true), "{}", a.raw);
    assert_eq!(a.data("A"), ["192.0.2.80"]);
    assert_eq!(a.answer[0].1, 300);

    // A change through the API is on the wire when the API answers: no sleep, no retry.
    let created = s.post(
        &format!("/api/v1/dns-zones/{z}/records/"),
        &t,
        json!({"record_type": "A", "name": "fresh", "value": "192.0.2.200"}),
    );
    assert_eq!(created.status, 201);
    assert_eq!(dig(s.dns, &["fresh.example.com", "A"]).data("A"), ["192.0.2.200"]);
    let id = created.body["uuid"].as_str().unwrap();
    s.send("PATCH", &format!("/api/v1/dns-records/{id}/"), &t, json!({"value": "192.0.2.201"}));
    assert_eq!(dig(s.dns, &["fresh.example.com", "A"]).data("A"), ["192.0.2.201"]);
    s.delete(&format!("/api/v1/dns-records/{id}/"), &t);
    assert_eq!(dig(s.dns, &["fresh.example.com", "A"]).status, "NXDOMAIN");

    // The serial grows with every change and the API shows the one being served.
    let serial = s.get(&format!("/api/v1/dns-zones/{z}/"), &t).body["serial"].as_u64().unwrap();
    let soa = dig(s.dns, &["example.com", "SOA"]);
    let fields: Vec<&str> = soa.answer[0].3.split(' ').collect();
    assert_eq!(fields[2].parse::<u64>().unwrap(), serial);
    assert_eq!(fields[0], "ns1.nsbox.invalid.");
    assert_eq!(dig(s.dns, &["example.com", "NS"]).data("NS"), ["ns1.nsbox.invalid."]);

    // Zones created and deleted through the API appear and vanish.
    let other = s.zone(&t, "example.org");
    assert_eq!(dig(s.dns, &["example.org", "SOA"]).status, "NOERROR");
    s.delete(&format!("/api/v1/dns-zones/{other}/"), &t);
    assert_eq!(dig(s.dns, &["example.org", "SOA"]).status, "REFUSED");
}

/// Every `--dns` address serves, over UDP and TCP, IPv4 and IPv6 alike.
#[test]
fn ipv4_and_ipv6_listeners_answer_over_udp_and_tcp() {
    let v6: std::net::SocketAddr = "[::1]:0".parse().unwrap();
    if std::net::UdpSocket::bind(v6).is_err() {
        eprintln!("SKIPPED: this machine has no IPv6 loopback");
        return;
    }
    let s = Server::start_on(&["127.0.0.1:0".parse().unwrap(), v6]);
    zone(&s);
    assert_eq!(s.dns_all.len(), 2);
    for server in &s.dns_all {
        assert_eq!(dig(*server, &["www.example.com", "A"]).data("A"), ["192.0.2.80"], "UDP on {server}");
        assert_eq!(dig(*server, &["+tcp", "www.example.com", "A"]).data("A"), ["192.0.2.80"], "TCP on {server}");
    }
    assert!(s.dns_all[1].is_ipv6());
}

/// With several DNS threads, their receive loops share each UDP socket: every query is
/// answered once, by one of them. (Bursts of 30, well within a socket's receive buffer.)
#[test]
fn several_dns_threads_share_the_socket() {
    let s = Server::start_with(nsbox::config::ServeConfig { dns_threads: 3, ..Default::default() });
    zone(&s);
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(std::time::Duration::from_secs(2))).unwrap();
    let mut query = dig::message("www.example.com.", RecordType::A);
    let mut buffer = [0u8; 512];
    for burst in 0..10u16 {
        let ids: std::collections::BTreeSet<u16> = (burst * 30..burst * 30 + 30).collect();
        for &id in &ids {
            query.metadata.id = id;
            socket.send_to(&query.to_vec().unwrap(), s.dns).unwrap();
        }
        let mut answered = std::collections::BTreeSet::new();
        while answered.len() < ids.len() {
            let (len, _) = socket.recv_from(&mut buffer).expect("every query answered");
            let answer = hickory_proto::op::Message::from_vec(&buffer[..len]).unwrap();
            assert_eq!(answer.metadata.response_code, ResponseCode::NoError);
            assert!(answered.insert(answer.metadata.id), "answered twice: {}", answer.metadata.id);
        }
        assert_eq!(answered, ids);
    }
}

#[test]
fn negative_answers_follow_rfc_2308() {
    let s = Server::start();
    let (t, z) = zone(&s);
    let nx = dig(s.dns, &["nope.example.com", "A"]);
    assert_eq!((nx.status.as_str(), nx.aa()), ("NXDOMAIN", true));
    assert_eq!(nx.soa_in_authority(), Some(3600));
    let nodata = dig(s.dns, &["www.example.com", "MX"]);
    assert_eq!((nodata.status.as_str(), nodata.answer.len()), ("NOERROR", 0));
    assert!(nodata.soa_in_authority().is_some());
    // Empty non-terminals exist: NODATA, not NXDOMAIN.
    for ent in ["ent.below.example.com", "below.example.com"] {
        let r = dig(s.dns, &[ent, "A"]);
        assert_eq!((r.status.as_str(), r.answer.len(), r.aa()), ("NOERROR", 0, true), "{ent}: {}", r.raw);
    }
    // Negative TTL = min(SOA TTL, SOA MINIMUM).
    let patched = s.send("PATCH", &format!("/api/v1/dns-zones/{z}/"), &t, json!({"minimum": 120}));
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(dig(s.dns, &["nope.example.com", "A"]).soa_in_authority(), Some(120));
    assert!(dig(s.dns, &["example.com", "SOA"]).answer[0].3.ends_with(" 120"));
    s.send("PATCH", &format!("/api/v1/dns-zones/{z}/"), &t, json!({"minimum": 86400}));
    assert_eq!(dig(s.dns, &["nope.example.com", "A"]).soa_in_authority(), Some(3600));
    s.send("PATCH", &format!("/api/v1/dns-zones/{z}/"), &t, json!({"minimum": -1})).error(400, "validation_error");
}

#[test]
fn wildcards_follow_rfc_4592() {
    let s = Server::start();
    zone(&s);
    let hit = dig(s.dns, &["anything.wild.example.com", "A"]);
    assert_eq!(
        hit.answer,
        [("anything.wild.example.com.".to_string(), 300, "A".to_string(), "203.0.113.99".to_string())]
    );
    assert_eq!(dig(s.dns, &["a.b.wild.example.com", "TXT"]).data("TXT"), ["\"wildcard\""]);
    // Wildcard NODATA.
    let nodata = dig(s.dns, &["other.wild.example.com", "MX"]);
    assert_eq!((nodata.status.as_str(), nodata.answer.len()), ("NOERROR", 0));
    assert!(nodata.soa_in_authority().is_some());
    // An existing name is not covered by the wildcard, nor are names below it.
    assert_eq!(dig(s.dns, &["host.wild.example.com", "A"]).data("A"), ["192.0.2.7"]);
    assert_eq!(dig(s.dns, &["host.wild.example.com", "TXT"]).answer.len(), 0);
    assert_eq!(dig(s.dns, &["x.host.wild.example.com", "A"]).status, "NXDOMAIN");
}

#[test]
fn cnames_and_delegations() {
    let s = Server::start();
    zone(&s);
    let chain = dig(s.dns, &["chain.example.com", "A"]);
    let types: Vec<&str> = chain.answer.iter().map(|r| r.2.as_str()).collect();
    assert_eq!(types, ["CNAME", "CNAME", "A"], "{}", chain.raw);
    assert_eq!(chain.data("A"), ["192.0.2.80"]);
    assert_eq!(dig(s.dns, &["alias.example.com", "CNAME"]).data("CNAME"), ["www.example.com."]);
    let dangling = dig(s.dns, &["dangling.example.com", "A"]);
    assert_eq!((dangling.status.as_str(), dangling.answer.len()), ("NXDOMAIN", 1), "RFC 6604: the chain's last rcode");
    let outside = dig(s.dns, &["outside.example.com", "A"]);
    assert_eq!((outside.status.as_str(), outside.data("CNAME")), ("NOERROR", vec!["www.example.net.".to_string()]));

    // Referral: no AA, NS in authority, glue in additional.
    for name in ["www.sub.example.com", "sub.example.com", "ns1.sub.example.com"] {
        let r = dig(s.dns, &[name, "A"]);
        assert_eq!((r.status.as_str(), r.aa(), r.answer.len()), ("NOERROR", false, 0), "{name}: {}", r.raw);
        let mut ns: Vec<&str> = r.authority.iter().filter(|x| x.2 == "NS").map(|x| x.3.as_str()).collect();
        ns.sort();
        assert_eq!(ns, ["ns1.sub.example.com.", "ns2.sub.example.com."]);
        let glue: Vec<&str> = r.additional.iter().filter(|x| x.2 == "A").map(|x| x.3.as_str()).collect();
        assert_eq!(glue.len(), 2, "{}", r.raw);
    }
    // MX answers carry the in-zone exchange's address.
    let mx = dig(s.dns, &["example.com", "MX"]);
    assert_eq!(mx.data("MX"), ["10 mail.example.com."]);
    assert!(mx.additional.iter().any(|r| r.0 == "mail.example.com." && r.3 == "192.0.2.25"), "{}", mx.raw);
    assert_eq!(dig(s.dns, &["_sip._tcp.example.com", "SRV"]).data("SRV"), ["10 60 5060 www.example.com."]);
    assert_eq!(dig(s.dns, &["example.com", "CAA"]).data("CAA"), ["0 issue \"letsencrypt.org\""]);
}

#[test]
fn protocol_edges() {
    let s = Server::start();
    zone(&s);
    // Not our zone: REFUSED, no AA. Case is matched insensitively and echoed.
    let refused = dig(s.dns, &["example.net", "A"]);
    assert_eq!((refused.status.as_str(), refused.aa()), ("REFUSED", false));
    let mixed = dig::udp(s.dns, &dig::message("wWw.ExAmPlE.CoM.", RecordType::A));
    assert_eq!(mixed.queries[0].name().to_ascii(), "wWw.ExAmPlE.CoM.");
    assert_eq!(mixed.answers[0].name.to_ascii(), "wWw.ExAmPlE.CoM.");
    assert!(mixed.metadata.authoritative);

    // EDNS: OPT echoed; a version above 0 gets BADVERS.
    let with_opt = dig::udp(s.dns, &dig::with_edns(dig::message("www.example.com.", RecordType::A), 4096, 0));
    assert!(with_opt.edns.is_some());
    assert!(dig::udp(s.dns, &dig::message("www.example.com.", RecordType::A)).edns.is_none());
    let badvers = dig::udp(s.dns, &dig::with_edns(dig::message("www.example.com.", RecordType::A), 1232, 1));
    assert_eq!(u16::from(badvers.metadata.response_code), 16, "BADVERS");

    // Over UDP a large answer is truncated (TC) within the client's limit; TCP has it all.
    let big = dig(s.dns, &["+noedns", "big.example.com", "TXT"]);
    assert!(big.tc() || big.raw.contains("Truncated"), "{}", big.raw);
    let big_udp = dig::udp(s.dns, &dig::with_edns(dig::message("big.example.com.", RecordType::TXT), 512, 0));
    assert!(big_udp.metadata.truncation && big_udp.answers.is_empty());
    assert!(big_udp.to_vec().unwrap().len() <= 512);
    let big_tcp = dig(s.dns, &["+tcp", "big.example.com", "TXT"]);
    assert_eq!(big_tcp.answer.len(), 1);
    assert_eq!(big_tcp.answer[0].3.matches('"').count(), 12, "1500 bytes as six strings of ≤255");

    // Pipelined TCP queries are all answered.
    let names = ["www.example.com.", "mail.example.com.", "nope.example.com."];
    let answers = dig::tcp_pipelined(s.dns, &names.map(|n| dig::message(n, RecordType::A)));
    let codes: Vec<ResponseCode> = answers.iter().map(|a| a.metadata.response_code).collect();
    assert_eq!(codes, [ResponseCode::NoError, ResponseCode::NoError, ResponseCode::NXDomain]);

    // ANY is answered minimally (RFC 8482): one RRset.
    let any = dig(s.dns, &["www.example.com", "ANY"]);
    let kinds: std::collections::BTreeSet<&str> = any.answer.iter().map(|r| r.2.as_str()).collect();
    assert_eq!((any.status.as_str(), kinds.len()), ("NOERROR", 1), "{}", any.raw);

    // Malformed questions: FORMERR; unknown opcodes: NOTIMP.
    let mut two = dig::message("www.example.com.", RecordType::A);
    two.add_query(hickory_proto::op::Query::query("mail.example.com.".parse().unwrap(), RecordType::A));
    assert_eq!(dig::udp(s.dns, &two).metadata.response_code, ResponseCode::FormErr);
    let mut cut = dig::message("www.example.com.", RecordType::A).to_vec().unwrap();
    cut.truncate(cut.len() - 3);
    let formerr = dig::udp_raw(s.dns, &cut).expect("an answer to a cut-off question");
    assert_eq!(formerr[3] & 0x0f, 1, "FORMERR");
    let mut status = dig::message("www.example.com.", RecordType::A);
    status.metadata.op_code = OpCode::Status;
    assert_eq!(dig::udp(s.dns, &status).metadata.response_code, ResponseCode::NotImp);

    // Responses (QR set) and runts get no answer: nothing to reflect at a forged source.
    let mut response = dig::message("www.example.com.", RecordType::A).to_vec().unwrap();
    response[2] |= 0x80;
    assert_eq!(dig::udp_raw(s.dns, &response), None, "a response is not answered");
    assert_eq!(dig::udp_raw(s.dns, &response[..11]), None, "a runt is not answered");
    // A datagram too large to be a query is malformed, not silently dropped.
    let mut huge = dig::message("www.example.com.", RecordType::A).to_vec().unwrap();
    huge.resize(5000, 0);
    assert_eq!(dig::udp_raw(s.dns, &huge).expect("an answer")[3] & 0x0f, 1, "FORMERR");
}

#[test]
fn hostile_packets_never_stop_the_server() {
    let s = Server::start();
    zone(&s);
    let valid = dig::message("www.example.com.", RecordType::A).to_vec().unwrap();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..3000 {
        let mut packet = if i % 2 == 0 { valid.clone() } else { vec![0u8; (next() % 600) as usize] };
        for _ in 0..(next() % 12) {
            if !packet.is_empty() {
                let at = (next() as usize) % packet.len();
                packet[at] = next() as u8;
            }
        }
        if i % 3 == 0 {
            packet.truncate((next() as usize) % (packet.len() + 1));
        }
        let _ = socket.send_to(&packet, s.dns);
    }
    // Garbage over TCP too: a huge length prefix, then a hang-up.
    if let Ok(mut tcp) = std::net::TcpStream::connect(s.dns) {
        use std::io::Write;
        let _ = tcp.write_all(&[0xff, 0xff, 1, 2, 3]);
    }
    let after = dig(s.dns, &["www.example.com", "A"]);
    assert_eq!(after.data("A"), ["192.0.2.80"], "still answering: {}", after.raw);
    assert_eq!(dig(s.dns, &["+tcp", "www.example.com", "A"]).data("A"), ["192.0.2.80"]);
}

#[test]
fn incremental_changes_keep_the_tree_right() {
    let s = Server::start();
    let (t, z) = zone(&s);
    let add = |name: &str, rtype: &str, content: &str| {
        let r =
            s.post(&format!("/api/v1/domains/{z}/dns"), &t, json!({"type": rtype, "name": name, "content": content}));
        assert_eq!(r.status, 201, "{}", r.text);
        r.body["id"].as_str().unwrap().to_string()
    };
    let remove = |id: &str| assert_eq!(s.delete(&format!("/api/v1/domains/{z}/dns/{id}"), &t).status, 204);

    // A deep name brings its empty non-terminals, and takes them when it goes.
    let deep = add("a.b.c", "A", "192.0.2.1");
    assert_eq!(dig(s.dns, &["b.c.example.com", "A"]).status, "NOERROR");
    remove(&deep);
    assert_eq!(dig(s.dns, &["b.c.example.com", "A"]).status, "NXDOMAIN");
    assert_eq!(dig(s.dns, &["c.example.com", "A"]).status, "NXDOMAIN");
    // …but not while another name still needs them.
    let one = add("x.shared", "A", "192.0.2.1");
    let two = add("y.shared", "A", "192.0.2.2");
    remove(&one);
    assert_eq!(dig(s.dns, &["shared.example.com", "A"]).status, "NOERROR");
    // A name with records of its own and names below keeps its place for either.
    let own = add("shared", "TXT", "owner");
    remove(&two);
    assert_eq!(dig(s.dns, &["shared.example.com", "TXT"]).data("TXT"), ["\"owner\""]);
    let three = add("z.shared", "A", "192.0.2.3");
    remove(&own);
    assert_eq!(dig(s.dns, &["shared.example.com", "TXT"]).status, "NOERROR");
    remove(&three);
    assert_eq!(dig(s.dns, &["shared.example.com", "TXT"]).status, "NXDOMAIN");

    // A delegation appears, stays while one of its NS records is left, and disappears.
    let ns = add("newsub", "NS", "ns.elsewhere.net");
    let ns2 = add("newsub", "NS", "ns2.elsewhere.net");
    let referral = dig(s.dns, &["www.newsub.example.com", "A"]);
    assert_eq!((referral.aa(), referral.authority.len()), (false, 2), "{}", referral.raw);
    remove(&ns);
    let referral = dig(s.dns, &["www.newsub.example.com", "A"]);
    assert_eq!((referral.aa(), referral.authority.len()), (false, 1), "{}", referral.raw);
    remove(&ns2);
    assert_eq!(dig(s.dns, &["www.newsub.example.com", "A"]).status, "NXDOMAIN");

    // The zone's own apex NS replace the generated ones, and give them back when removed.
    let apex = add("@", "NS", "ns1.example.net");
    assert_eq!(dig(s.dns, &["example.com", "NS"]).data("NS"), ["ns1.example.net."]);
    remove(&apex);
    assert_eq!(dig(s.dns, &["example.com", "NS"]).data("NS"), ["ns1.nsbox.invalid."]);
    // What is served after many changes is what a fresh start builds from the store.
    s.send("PATCH", &format!("/api/v1/dns-zones/{z}/"), &t, json!({"allow_transfer": ["127.0.0.1"]}));
    let sorted = |d: crate::dig::Dig| {
        let mut v = d.answer;
        v.sort();
        v
    };
    let before = sorted(dig(s.dns, &["+tcp", "example.com", "AXFR"]));
    assert!(before.len() > 20, "{before:?}");
    let s = s.restart();
    assert_eq!(sorted(dig(s.dns, &["+tcp", "example.com", "AXFR"])), before);
}

/// Response rate limiting: a flood from one network is cut down — most answers dropped, every
/// second limited one sent truncated — while a client on another network is answered.
#[test]
fn a_flood_from_one_network_is_rate_limited_and_others_are_answered() {
    let config = nsbox::config::ServeConfig { rrl_rate: 10, rrl_slip: 2, rrl_exempt: Vec::new(), ..Default::default() };
    let s = Server::start_with(config);
    let t = s.user_token("rrl", &[], &[]);
    let z = s.zone(&t, "rrl.example");
    s.post(&format!("/api/v1/domains/{z}/dns"), &t, json!({"type": "A", "name": "www", "content": "192.0.2.1"}));
    let query = crate::dig::message("www.rrl.example.", hickory_proto::rr::RecordType::A).to_vec().unwrap();
    let flood = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for _ in 0..300 {
        flood.send_to(&query, s.dns).unwrap();
    }
    flood.set_read_timeout(Some(std::time::Duration::from_millis(500))).unwrap();
    let (mut full, mut truncated) = (0, 0);
    let mut buf = [0u8; 512];
    while let Ok(n) = flood.recv(&mut buf) {
        if n >= 12 && buf[2] & 0x02 != 0 { truncated += 1 } else { full += 1 }
    }
    assert!(full <= 15, "{full} full answers to a flood limited to 10 a second");
    assert!(
        truncated >= 100 && full + truncated < 200,
        "most dropped, every second limited one truncated: {full} full, {truncated} truncated"
    );
    let other = std::net::UdpSocket::bind("127.0.1.1:0").unwrap();
    other.set_read_timeout(Some(std::time::Duration::from_secs(2))).unwrap();
    other.send_to(&query, s.dns).unwrap();
    let n = other.recv(&mut buf).unwrap();
    assert!(
        n > 12 && buf[2] & 0x02 == 0 && u16::from_be_bytes([buf[6], buf[7]]) == 1,
        "another network is answered in full"
    );
    let metrics = ureq::get(&format!("{}/metrics", s.base)).call().unwrap().into_string().unwrap();
    assert!(metrics.contains("nsbox_rrl_answers_total{action=\"slipped\"}"), "counted in /metrics");
}

/// The `/metrics` value of a counter without labels.
fn counter(s: &Server, name: &str) -> u64 {
    let text = ureq::get(&format!("{}/metrics", s.base)).call().unwrap().into_string().unwrap();
    let line = text.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap_or_default();
    line.rsplit(' ').next().and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// A repeated plain question is answered from the packet cache, in the asker's case, and a
/// change through the API is on the wire when the API answers all the same.
#[test]
fn cached_answers_never_outlive_a_change() {
    let s = Server::start();
    let (t, z) = zone(&s);
    // dig sends no cookie here, as most resolvers and load generators ask.
    let ask = |name: &str| dig(s.dns, &["+nocookie", name, "A"]);
    assert_eq!(ask("www.example.com").data("A"), ["192.0.2.80"]);
    let before = counter(&s, "nsbox_dns_packet_cache_hits_total");
    assert_eq!(ask("www.example.com").data("A"), ["192.0.2.80"]);
    assert!(counter(&s, "nsbox_dns_packet_cache_hits_total") > before, "the second answer came from the cache");
    let upper = ask("WWW.Example.COM");
    assert_eq!(upper.answer[0].0, "WWW.Example.COM.", "each case is its own question");

    let added =
        s.post(&format!("/api/v1/domains/{z}/dns"), &t, json!({"type": "A", "name": "www", "content": "192.0.2.81"}));
    assert_eq!(added.status, 201, "{}", added.text);
    assert_eq!(ask("www.example.com").data("A"), ["192.0.2.80", "192.0.2.81"]);
    assert_eq!(ask("www.example.com").data("A"), ["192.0.2.80", "192.0.2.81"]);
    s.delete(&format!("/api/v1/dns-zones/{z}/"), &t);
    assert_eq!(ask("www.example.com").status, "REFUSED");
}
