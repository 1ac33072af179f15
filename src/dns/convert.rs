//! Domain records → hickory's wire records.

use hickory_proto::rr::rdata::NULL;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecoder, BinEncodable, BinEncoder, Restrict};

use crate::domain::name;
use crate::domain::record::{self, RecordData};

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
/// never have let in.
pub fn to_wire(zone: &str, data: &RecordData) -> Option<Record> {
    let owner = absolute_name(&name::absolute(&data.name, zone))?;
    from_wire(owner, data.rtype.0, data.ttl, &record::wire(data)?)
}

/// A record from its RDATA in wire form. Types whose targets the lookup follows (CNAME
/// chains, glue for NS, MX and SRV) and addresses are parsed, so hickory compresses their
/// names; every other type goes out as the bytes its one definition in `domain::rdata` made.
pub fn from_wire(owner: Name, code: u16, ttl: u32, rdata: &[u8]) -> Option<Record> {
    let rtype = RecordType::from(code);
    let data = match rtype {
        RecordType::A
        | RecordType::AAAA
        | RecordType::CNAME
        | RecordType::NS
        | RecordType::PTR
        | RecordType::MX
        | RecordType::SRV
        | RecordType::SOA => {
            let length = Restrict::new(u16::try_from(rdata.len()).ok()?);
            RData::read(&mut BinDecoder::new(rdata), rtype, length).ok()?
        }
        _ => RData::Unknown {
            code: rtype,
            rdata: if rdata.is_empty() { NULL::new() } else { NULL::with(rdata.to_vec()) },
        },
    };
    Some(Record::from_rdata(owner, ttl, data))
}
