//! LOC (RFC 1876): a position as degrees, minutes and seconds, an altitude, and sizes.

use super::text::Token;

/// 2^31: the equator and the prime meridian on the wire.
const ORIGIN: i64 = 1 << 31;
/// The wire's altitude counts centimetres from 100,000 m below the reference.
const ALTITUDE_BASE: i64 = 10_000_000;

/// Centimetres in a text like `-2.00m`, `10000`, `0.5m`.
fn centimetres(token: &str) -> Result<i64, String> {
    let t = token.trim_end_matches(['m', 'M']);
    let value: f64 = t.parse().map_err(|_| format!("'{token}' is not a length in metres"))?;
    if !value.is_finite() {
        return Err(format!("'{token}' is not a length in metres"));
    }
    Ok((value * 100.0).round() as i64)
}

/// A size or precision as the wire's mantissa and power of ten, in centimetres.
fn precision(token: &str) -> Result<u8, String> {
    let mut cm = centimetres(token)?;
    if !(0..=9_000_000_000).contains(&cm) {
        return Err(format!("'{token}' is out of range (0 to 90,000,000 m)"));
    }
    let mut exponent = 0u8;
    while cm >= 10 {
        cm /= 10;
        exponent += 1;
    }
    Ok((cm as u8) << 4 | exponent)
}

fn precision_text(byte: u8) -> Result<String, String> {
    let (mantissa, exponent) = (u64::from(byte >> 4), u32::from(byte & 0x0f));
    if mantissa > 9 || exponent > 9 {
        return Err("a LOC size is out of range".into());
    }
    Ok(metres(mantissa as i64 * 10i64.pow(exponent)))
}

fn metres(cm: i64) -> String {
    let (sign, cm) = (if cm < 0 { "-" } else { "" }, cm.abs());
    if cm % 100 == 0 { format!("{sign}{}m", cm / 100) } else { format!("{sign}{}.{:02}m", cm / 100, cm % 100) }
}

/// Reads `d [m [s]] H` from `tokens`; thousandths of an arc-second from the origin.
fn angle(tokens: &mut std::slice::Iter<Token>, hemispheres: [&str; 2], max_degrees: i64) -> Result<u32, String> {
    let mut parts = Vec::new();
    let sign = loop {
        let t = tokens.next().ok_or("the position is cut short")?;
        let upper = t.text.to_ascii_uppercase();
        if upper == hemispheres[0] {
            break 1;
        }
        if upper == hemispheres[1] {
            break -1;
        }
        if parts.len() == 3 {
            return Err(format!("expected {} or {}, got '{}'", hemispheres[0], hemispheres[1], t.text));
        }
        parts.push(t.text.clone());
    };
    let degrees: i64 = parts.first().and_then(|d| d.parse().ok()).ok_or("degrees must be a whole number")?;
    let minutes: i64 = parts.get(1).map_or(Some(0), |m| m.parse().ok()).ok_or("minutes must be a whole number")?;
    let seconds: f64 = parts.get(2).map_or(Some(0.0), |s| s.parse().ok()).ok_or("seconds must be a number")?;
    if degrees > max_degrees || minutes >= 60 || !(0.0..60.0).contains(&seconds) {
        return Err("the position is out of range".into());
    }
    let thousandths = degrees * 3_600_000 + minutes * 60_000 + (seconds * 1000.0).round() as i64;
    if thousandths > max_degrees * 3_600_000 {
        return Err("the position is out of range".into());
    }
    u32::try_from(ORIGIN + sign * thousandths).map_err(|_| "the position is out of range".into())
}

pub fn parse(tokens: &[Token]) -> Result<Vec<u8>, String> {
    let mut it = tokens.iter();
    let latitude = angle(&mut it, ["N", "S"], 90)?;
    let longitude = angle(&mut it, ["E", "W"], 180)?;
    let rest: Vec<&str> = it.map(|t| t.text.as_str()).collect();
    let altitude = centimetres(rest.first().ok_or("the altitude is missing")?)? + ALTITUDE_BASE;
    let altitude = u32::try_from(altitude).map_err(|_| "the altitude is out of range")?;
    if rest.len() > 4 {
        return Err("too many values after the altitude".into());
    }
    let sizes = [rest.get(1).unwrap_or(&"1m"), rest.get(2).unwrap_or(&"10000m"), rest.get(3).unwrap_or(&"10m")];
    let mut wire = vec![0u8];
    for size in sizes {
        wire.push(precision(size)?);
    }
    wire.extend_from_slice(&latitude.to_be_bytes());
    wire.extend_from_slice(&longitude.to_be_bytes());
    wire.extend_from_slice(&altitude.to_be_bytes());
    Ok(wire)
}

fn angle_text(value: u32, hemispheres: [char; 2]) -> String {
    let offset = i64::from(value) - ORIGIN;
    let hemisphere = if offset < 0 { hemispheres[1] } else { hemispheres[0] };
    let t = offset.abs();
    let (degrees, minutes, thousandths) = (t / 3_600_000, t / 60_000 % 60, t % 60_000);
    format!("{degrees} {minutes} {}.{:03} {hemisphere}", thousandths / 1000, thousandths % 1000)
}

pub fn print(wire: &[u8]) -> Result<String, String> {
    let word = |at: usize| u32::from_be_bytes([wire[at], wire[at + 1], wire[at + 2], wire[at + 3]]);
    if wire.len() != 16 || wire[0] != 0 {
        return Err("not LOC version 0 data".into());
    }
    let altitude = i64::from(word(12)) - ALTITUDE_BASE;
    Ok(format!(
        "{} {} {} {} {} {}",
        angle_text(word(4), ['N', 'S']),
        angle_text(word(8), ['E', 'W']),
        metres(altitude),
        precision_text(wire[1])?,
        precision_text(wire[2])?,
        precision_text(wire[3])?
    ))
}
