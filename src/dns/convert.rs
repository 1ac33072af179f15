//! Domain records → wire records. The only place that knows how canonical content maps onto
//! RDATA (TXT split into 255-byte strings, CAA as its wire form).

use std::net::{Ipv4Addr, Ipv6Addr};

use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, NS, NULL, PTR, SRV, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::domain::name;
use crate::domain::record::{RecordData, RecordType as Type};

/// An absolute name from our stored form (no trailing dot; `.` is the root).
pub fn absolute_name(text: &str) -> Option<Name> {
    if text == "." || text.is_empty() {
        return Some(Name::root());
    }
    Name::from_ascii(format!("{text}.")).ok()
}

/// The wire record of a stored record of `zone`; None only for data the validator would
/// never have let in.
pub fn to_wire(zone: &str, data: &RecordData) -> Option<Record> {
    let owner = absolute_name(&name::absolute(&data.name, zone))?;
    let rdata = match data.rtype {
        Type::A => RData::A(A(data.content.parse::<Ipv4Addr>().ok()?)),
        Type::AAAA => RData::AAAA(AAAA(data.content.parse::<Ipv6Addr>().ok()?)),
        Type::CNAME => RData::CNAME(CNAME(absolute_name(&data.content)?)),
        Type::NS => RData::NS(NS(absolute_name(&data.content)?)),
        Type::PTR => RData::PTR(PTR(absolute_name(&data.content)?)),
        Type::MX => RData::MX(MX::new(data.priority?, absolute_name(&data.content)?)),
        Type::SRV => {
            let mut fields = data.content.split_whitespace();
            let weight = fields.next()?.parse().ok()?;
            let port = fields.next()?.parse().ok()?;
            RData::SRV(SRV::new(data.priority?, weight, port, absolute_name(fields.next()?)?))
        }
        Type::TXT => RData::TXT(TXT::from_bytes(data.content.as_bytes().chunks(255).collect())),
        Type::CAA => RData::Unknown { code: RecordType::CAA, rdata: NULL::with(caa_wire(&data.content)?) },
    };
    Some(Record::from_rdata(owner, data.ttl, rdata))
}

/// `0 issue "letsencrypt.org"` → flags, tag length, tag, value (RFC 8659 §4.1).
fn caa_wire(content: &str) -> Option<Vec<u8>> {
    let mut parts = content.splitn(3, ' ');
    let flags: u8 = parts.next()?.parse().ok()?;
    let tag = parts.next()?;
    let value = parts.next()?.trim_matches('"');
    let mut wire = vec![flags, u8::try_from(tag.len()).ok()?];
    wire.extend_from_slice(tag.as_bytes());
    wire.extend_from_slice(value.as_bytes());
    Some(wire)
}
