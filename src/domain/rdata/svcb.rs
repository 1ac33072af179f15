//! SVCB and HTTPS parameters (RFC 9460 §2.1, §7): `key=value` in text, sorted key-length-value
//! triples on the wire.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::fields::Reader;
use super::text::{self, Token};

const KEYS: [&str; 8] = ["mandatory", "alpn", "no-default-alpn", "port", "ipv4hint", "ech", "ipv6hint", "dohpath"];

fn key_code(name: &str) -> Result<u16, String> {
    let lower = name.to_ascii_lowercase();
    if let Some(i) = KEYS.iter().position(|k| *k == lower) {
        return Ok(i as u16);
    }
    lower
        .strip_prefix("key")
        .and_then(|n| n.parse::<u16>().ok())
        .filter(|n| *n != 65_535)
        .ok_or_else(|| format!("'{name}' is not an SvcParam key ({}, keyNNNNN)", KEYS.join(", ")))
}

fn key_name(code: u16) -> String {
    KEYS.get(usize::from(code)).map_or_else(|| format!("key{code}"), |k| k.to_string())
}

/// Splits a value list on commas that are not escaped, each item unescaped.
fn items(value: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push('\\');
                current.extend(chars.next());
            }
            ',' => out.push(text::unescape(&std::mem::take(&mut current))?),
            c => current.push(c),
        }
    }
    out.push(text::unescape(&current)?);
    Ok(out)
}

/// The wire form of the parameters in `tokens` (`alpn="h2,h3"` may arrive as two tokens).
pub fn parse(tokens: &[Token]) -> Result<Vec<u8>, String> {
    let mut params: Vec<(u16, Vec<u8>)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        i += 1;
        let (key, mut value) = match token.text.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (token.text.clone(), None),
        };
        if value.as_deref() == Some("") && tokens.get(i).is_some_and(|t| t.quoted) {
            value = Some(tokens[i].text.clone());
            i += 1;
        }
        let code = key_code(&key)?;
        if params.iter().any(|(c, _)| *c == code) {
            return Err(format!("the key {key} appears twice"));
        }
        params.push((code, value_wire(code, value.as_deref())?));
    }
    params.sort_by_key(|(code, _)| *code);
    let mut wire = Vec::new();
    for (code, value) in params {
        wire.extend_from_slice(&code.to_be_bytes());
        wire.extend_from_slice(&u16::try_from(value.len()).map_err(|_| "a parameter is too long")?.to_be_bytes());
        wire.extend_from_slice(&value);
    }
    Ok(wire)
}

fn value_wire(code: u16, value: Option<&str>) -> Result<Vec<u8>, String> {
    let needed = || format!("{} needs a value", key_name(code));
    let mut wire = Vec::new();
    match code {
        2 => {
            if value.is_some() {
                return Err("no-default-alpn takes no value".into());
            }
        }
        0 => {
            let mut keys = items(value.ok_or_else(needed)?)?
                .iter()
                .map(|k| key_code(&String::from_utf8_lossy(k)))
                .collect::<Result<Vec<_>, _>>()?;
            keys.sort_unstable();
            keys.iter().for_each(|k| wire.extend_from_slice(&k.to_be_bytes()));
        }
        1 => {
            for id in items(value.ok_or_else(needed)?)? {
                let len = u8::try_from(id.len()).ok().filter(|l| *l > 0).ok_or("an ALPN id must be 1-255 bytes")?;
                wire.push(len);
                wire.extend_from_slice(&id);
            }
        }
        3 => {
            let v = value.ok_or_else(needed)?;
            let port: u16 = v.parse().map_err(|_| format!("port '{v}' is not a number from 0 to 65535"))?;
            wire.extend_from_slice(&port.to_be_bytes());
        }
        4 => {
            for ip in value.ok_or_else(needed)?.split(',') {
                let ip: Ipv4Addr = ip.parse().map_err(|_| format!("'{ip}' is not an IPv4 address"))?;
                wire.extend_from_slice(&ip.octets());
            }
        }
        6 => {
            for ip in value.ok_or_else(needed)?.split(',') {
                let ip: Ipv6Addr = ip.parse().map_err(|_| format!("'{ip}' is not an IPv6 address"))?;
                wire.extend_from_slice(&ip.octets());
            }
        }
        5 => wire = text::unbase64(value.ok_or_else(needed)?)?,
        _ => wire = text::unescape(value.unwrap_or_default())?,
    }
    Ok(wire)
}

pub fn print(wire: &[u8]) -> Result<String, String> {
    let mut r = Reader::new(wire);
    let mut out = Vec::new();
    while !r.done() {
        let code = r.u16()?;
        let len = usize::from(r.u16()?);
        let value = r.take(len)?;
        let unit = match code {
            0 | 3 => 2,
            4 => 4,
            6 => 16,
            _ => 1,
        };
        if !len.is_multiple_of(unit) || (code == 3 && len != 2) {
            return Err(format!("the {} parameter has a wrong length", key_name(code)));
        }
        out.push(match code {
            2 => key_name(code),
            0 => {
                let keys: Vec<String> = value.chunks(2).map(|k| key_name(u16::from_be_bytes([k[0], k[1]]))).collect();
                format!("mandatory={}", keys.join(","))
            }
            1 => {
                let mut ids = Vec::new();
                let mut v = Reader::new(value);
                while !v.done() {
                    let len = usize::from(v.u8()?);
                    let id = v.take(len)?;
                    ids.push(text::quote(id).trim_matches('"').replace(',', "\\,"));
                }
                format!("alpn=\"{}\"", ids.join(","))
            }
            3 => format!("port={}", u16::from_be_bytes([value[0], value[1]])),
            4 => {
                let ips: Vec<String> =
                    value.chunks(4).map(|b| Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string()).collect();
                format!("ipv4hint={}", ips.join(","))
            }
            6 => {
                let ips: Vec<String> = value
                    .chunks(16)
                    .map(|b| {
                        let mut o = [0u8; 16];
                        o.copy_from_slice(b);
                        Ipv6Addr::from(o).to_string()
                    })
                    .collect();
                format!("ipv6hint={}", ips.join(","))
            }
            5 => format!("ech={}", text::base64(value)),
            _ => format!("{}={}", key_name(code), text::quote(value)),
        });
    }
    Ok(out.join(" "))
}
