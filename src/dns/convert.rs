//! Domain records → hickory's wire records.

use std::net::{Ipv4Addr, Ipv6Addr};

use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, NS, NULL, PTR, SRV};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};

use crate::domain::name;
use crate::domain::record::{self, RecordData, RecordType as Type};

/// The RDATA of a wire record as bytes, names uncompressed (as `domain::rdata` reads them).
pub fn rdata_bytes(rdata: &RData) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut encoder = BinEncoder::new(&mut bytes);
    encoder.set_canonical_form(true);
    rdata.emit(&mut encoder).ok()?;
    Some(bytes)
}

/// An absolute name from our stored form (no trailing dot; `.` is the root).
pub fn absolute_name(text: &str) -> Option<Name> {
    if text == "." || text.is_empty() {
        return Some(Name::root());
    }
    Name::from_ascii(format!("{text}.")).ok()
}

/// The wire record of a stored record of `zone`; None only for data the validator would
/// never have let in. Types whose targets the lookup follows (CNAME chains, glue for NS, MX
/// and SRV) and addresses stay typed for hickory; every other type goes out as the RDATA
/// bytes its one definition in `domain::rdata` makes.
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
        other => {
            let wire = record::wire(data)?;
            let rdata = if wire.is_empty() { NULL::new() } else { NULL::with(wire) };
            RData::Unknown { code: RecordType::from(other.0), rdata }
        }
    };
    Some(Record::from_rdata(owner, data.ttl, rdata))
}
