//! The fields record data is made of, each read from presentation text, written to the wire,
//! read back from the wire and printed. A type's definition is a list of them.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::text::{self, Token};
use super::{Names, loc, svcb, types};
use crate::domain::name;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Field {
    U8,
    U16,
    U32,
    /// A DNSSEC algorithm: its number or mnemonic (`13`, `ECDSAP256SHA256`).
    Algorithm,
    /// A CERT certificate type: its number or mnemonic (`PKIX`).
    CertType,
    Name,
    Ipv4,
    Ipv6,
    /// One `<character-string>` (at most 255 bytes).
    Text,
    /// One or more `<character-string>`s, to the end.
    Texts,
    /// Base64, to the end (spaces allowed inside).
    Base64,
    /// Hex, to the end (spaces allowed inside).
    Hex,
    /// A list of type names as a type bitmap, to the end.
    Bitmap,
    /// A CAA property tag (1-15 letters or digits).
    CaaTag,
    /// A CAA property value, to the end of the data.
    CaaValue,
    /// A URI target: one quoted string, to the end of the data.
    UriTarget,
    /// SVCB/HTTPS parameters (`alpn=h2,h3 port=8443 …`), to the end.
    SvcParams,
    /// The whole LOC data (RFC 1876 text).
    Loc,
}

/// Reads every field from `tokens`; too few or too many tokens is an error.
pub fn parse_all(fields: &[Field], tokens: &[Token], names: Names) -> Result<Vec<u8>, String> {
    let mut wire = Vec::new();
    let mut at = 0;
    for (i, field) in fields.iter().enumerate() {
        let rest = &tokens[at.min(tokens.len())..];
        let used = parse_field(*field, rest, names, &mut wire).map_err(|e| format!("field {}: {e}", i + 1))?;
        at += used;
    }
    if at < tokens.len() {
        return Err(format!("unexpected '{}' after the last field", tokens[at].text));
    }
    Ok(wire)
}

fn one(rest: &[Token]) -> Result<&Token, String> {
    rest.first().ok_or_else(|| "missing".to_string())
}

fn number<T: TryFrom<u64>>(token: &Token, max: u64) -> Result<T, String> {
    token
        .text
        .parse::<u64>()
        .ok()
        .filter(|n| *n <= max)
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| format!("'{}' is not a number from 0 to {max}", token.text))
}

/// Parses one field at the start of `rest` into `wire`; returns how many tokens it used.
fn parse_field(field: Field, rest: &[Token], names: Names, wire: &mut Vec<u8>) -> Result<usize, String> {
    let to_end = |rest: &[Token]| -> Result<String, String> {
        if rest.is_empty() {
            return Err("missing".into());
        }
        Ok(rest.iter().map(|t| t.text.as_str()).collect())
    };
    match field {
        Field::U8 => wire.push(number(one(rest)?, 255)?),
        Field::U16 => wire.extend_from_slice(&number::<u16>(one(rest)?, 65_535)?.to_be_bytes()),
        Field::U32 => wire.extend_from_slice(&number::<u32>(one(rest)?, u64::from(u32::MAX))?.to_be_bytes()),
        Field::Algorithm => wire.push(mnemonic(one(rest)?, types::ALGORITHMS, 255)? as u8),
        Field::CertType => wire.extend_from_slice(&mnemonic(one(rest)?, types::CERT_TYPES, 65_535)?.to_be_bytes()),
        Field::Name => wire.extend_from_slice(&name_wire(&absolute(&one(rest)?.text, names)?)?),
        Field::Ipv4 => {
            let t = one(rest)?;
            let ip: Ipv4Addr = t.text.parse().map_err(|_| format!("'{}' is not an IPv4 address", t.text))?;
            wire.extend_from_slice(&ip.octets());
        }
        Field::Ipv6 => {
            let t = one(rest)?;
            let ip: Ipv6Addr = t.text.parse().map_err(|_| format!("'{}' is not an IPv6 address", t.text))?;
            wire.extend_from_slice(&ip.octets());
        }
        Field::Text => push_string(wire, &text::unescape(&one(rest)?.text)?)?,
        Field::Texts => {
            if rest.is_empty() {
                return Err("missing".into());
            }
            for t in rest {
                push_string(wire, &text::unescape(&t.text)?)?;
            }
            return Ok(rest.len());
        }
        Field::Base64 => {
            wire.extend_from_slice(&text::unbase64(&to_end(rest)?)?);
            return Ok(rest.len());
        }
        Field::Hex => {
            wire.extend_from_slice(&text::unhex(&to_end(rest)?)?);
            return Ok(rest.len());
        }
        Field::Bitmap => {
            let codes = rest.iter().map(|t| types::code_of(&t.text)).collect::<Result<Vec<_>, _>>()?;
            wire.extend_from_slice(&bitmap(&codes));
            return Ok(rest.len());
        }
        Field::CaaTag => {
            let tag = one(rest)?.text.to_ascii_lowercase();
            if tag.is_empty() || tag.len() > 15 || !tag.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(format!("the tag '{tag}' must be 1-15 letters or digits (issue, issuewild, iodef, …)"));
            }
            push_string(wire, tag.as_bytes())?;
        }
        Field::CaaValue | Field::UriTarget => {
            let t = one(rest)?;
            if rest.len() > 1 {
                return Err("quote a value that has spaces".into());
            }
            wire.extend_from_slice(&text::unescape(&t.text)?);
        }
        Field::SvcParams => {
            wire.extend_from_slice(&svcb::parse(rest)?);
            return Ok(rest.len());
        }
        Field::Loc => {
            wire.extend_from_slice(&loc::parse(rest)?);
            return Ok(rest.len());
        }
    }
    Ok(1)
}

fn mnemonic(token: &Token, table: &[(&str, u16)], max: u64) -> Result<u16, String> {
    let upper = token.text.to_ascii_uppercase();
    match table.iter().find(|(name, _)| *name == upper) {
        Some((_, code)) => Ok(*code),
        None => number(token, max),
    }
}

fn push_string(wire: &mut Vec<u8>, bytes: &[u8]) -> Result<(), String> {
    let len = u8::try_from(bytes.len()).map_err(|_| "a character-string is longer than 255 bytes".to_string())?;
    wire.push(len);
    wire.extend_from_slice(bytes);
    Ok(())
}

/// A name as stored (lowercase, no trailing dot; `.` the root), from presentation text.
fn absolute(text: &str, names: Names) -> Result<String, String> {
    let text = match names {
        Names::RelativeTo(origin) if text == "@" => origin.to_string(),
        Names::RelativeTo(origin) if !text.ends_with('.') => format!("{text}.{origin}"),
        _ => text.to_string(),
    };
    name::parse_host(&text, "content", true).map_err(|e| e.message)
}

pub fn name_wire(name: &str) -> Result<Vec<u8>, String> {
    let mut wire = Vec::with_capacity(name.len() + 2);
    for label in name.split('.').filter(|l| !l.is_empty()) {
        push_string(&mut wire, label.as_bytes())?;
    }
    wire.push(0);
    Ok(wire)
}

/// A type bitmap (RFC 4034 §4.1.2) of these codes.
pub fn bitmap(codes: &[u16]) -> Vec<u8> {
    let mut codes = codes.to_vec();
    codes.sort_unstable();
    codes.dedup();
    let mut wire = Vec::new();
    for window in 0..=255u8 {
        let in_window: Vec<u16> = codes.iter().copied().filter(|c| (c >> 8) as u8 == window).collect();
        let Some(last) = in_window.last() else { continue };
        let len = usize::from((last & 0xff) / 8 + 1);
        let mut bits = vec![0u8; len];
        for code in in_window {
            bits[usize::from((code & 0xff) / 8)] |= 0x80 >> (code % 8);
        }
        wire.push(window);
        wire.push(len as u8);
        wire.extend_from_slice(&bits);
    }
    wire
}

/// Wire data read field by field.
pub struct Reader<'a> {
    wire: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub fn new(wire: &'a [u8]) -> Self {
        Self { wire, at: 0 }
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let bytes = self.wire.get(self.at..self.at + n).ok_or("the data is cut short")?;
        self.at += n;
        Ok(bytes)
    }

    pub fn rest(&mut self) -> &'a [u8] {
        let bytes = &self.wire[self.at.min(self.wire.len())..];
        self.at = self.wire.len();
        bytes
    }

    pub fn done(&self) -> bool {
        self.at >= self.wire.len()
    }

    pub fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn string(&mut self) -> Result<&'a [u8], String> {
        let len = usize::from(self.u8()?);
        self.take(len)
    }

    /// An uncompressed name, lowercase, without the trailing dot (`.` for the root).
    pub fn name(&mut self) -> Result<String, String> {
        let mut labels = Vec::new();
        loop {
            let len = self.u8()?;
            if len == 0 {
                break;
            }
            if len > 63 {
                return Err("a compressed or malformed name".into());
            }
            let label = self.take(usize::from(len))?;
            labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        }
        Ok(if labels.is_empty() { ".".into() } else { labels.join(".") })
    }
}

/// Reads every field of `wire`, as `print_all` does, only to check it.
pub fn read_all(fields: &[Field], wire: &[u8]) -> Result<(), String> {
    print_all(fields, wire, true).map(|_| ())
}

/// The presentation text of wire data.
pub fn print_all(fields: &[Field], wire: &[u8], dots: bool) -> Result<String, String> {
    let mut r = Reader::new(wire);
    let mut out: Vec<String> = Vec::with_capacity(fields.len());
    for field in fields {
        out.push(print_field(*field, &mut r, dots)?);
    }
    if !r.done() {
        return Err("the data has bytes after its last field".into());
    }
    Ok(out.join(" ").trim_end().to_string())
}

fn print_field(field: Field, r: &mut Reader, dots: bool) -> Result<String, String> {
    Ok(match field {
        Field::U8 | Field::Algorithm => r.u8()?.to_string(),
        Field::U16 => r.u16()?.to_string(),
        Field::U32 => r.u32()?.to_string(),
        Field::CertType => {
            let code = r.u16()?;
            types::CERT_TYPES.iter().find(|(_, c)| *c == code).map_or(code.to_string(), |(n, _)| n.to_string())
        }
        Field::Name => {
            let name = r.name()?;
            if dots && name != "." { format!("{name}.") } else { name }
        }
        Field::Ipv4 => {
            let b = r.take(4)?;
            Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string()
        }
        Field::Ipv6 => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(r.take(16)?);
            Ipv6Addr::from(octets).to_string()
        }
        Field::Text | Field::CaaTag => {
            let s = r.string()?;
            if field == Field::CaaTag { String::from_utf8_lossy(s).into_owned() } else { text::quote(s) }
        }
        Field::Texts => {
            let mut strings = Vec::new();
            while !r.done() {
                strings.push(text::quote(r.string()?));
            }
            if strings.is_empty() {
                return Err("no character-string".into());
            }
            strings.join(" ")
        }
        Field::Base64 => non_empty(text::base64(r.rest()))?,
        Field::Hex => non_empty(text::hex(r.rest()))?,
        Field::Bitmap => {
            let codes = read_bitmap(r.rest())?;
            codes.iter().map(|c| types::name_of(*c)).collect::<Vec<_>>().join(" ")
        }
        Field::CaaValue | Field::UriTarget => text::quote(r.rest()),
        Field::SvcParams => svcb::print(r.rest())?,
        Field::Loc => loc::print(r.take(16)?)?,
    })
}

fn non_empty(text: String) -> Result<String, String> {
    if text.is_empty() { Err("empty data".into()) } else { Ok(text) }
}

fn read_bitmap(mut wire: &[u8]) -> Result<Vec<u16>, String> {
    let mut codes = Vec::new();
    while !wire.is_empty() {
        let [window, len, rest @ ..] = wire else { return Err("a type bitmap is cut short".into()) };
        let bits = rest.get(..usize::from(*len)).ok_or("a type bitmap is cut short")?;
        for (i, byte) in bits.iter().enumerate() {
            for bit in 0..8 {
                if byte & (0x80 >> bit) != 0 {
                    codes.push(u16::from(*window) << 8 | (i * 8 + bit) as u16);
                }
            }
        }
        wire = &rest[usize::from(*len)..];
    }
    Ok(codes)
}

/// The wire data with the letters of its names lowercase (DNSSEC's canonical form).
pub fn lowercase_names(fields: &[Field], wire: &[u8]) -> Vec<u8> {
    let mut out = wire.to_vec();
    let mut r = Reader::new(wire);
    for field in fields {
        let start = r.at;
        let read =
            if *field == Field::Name { r.name().map(drop) } else { print_field(*field, &mut r, false).map(drop) };
        if read.is_err() {
            break;
        }
        if *field == Field::Name {
            out[start..r.at].make_ascii_lowercase();
        }
    }
    out
}

/// The names in wire data, for additional-section processing.
pub fn names_in(fields: &[Field], wire: &[u8]) -> Vec<String> {
    let mut r = Reader::new(wire);
    let mut out = Vec::new();
    for field in fields {
        if *field == Field::Name {
            match r.name() {
                Ok(name) => out.push(name),
                Err(_) => break,
            }
        } else if print_field(*field, &mut r, false).is_err() {
            break;
        }
    }
    out
}
