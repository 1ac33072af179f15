//! Presentation-format text: tokens (quoted or not), `<character-string>`s with `\X` and
//! `\DDD` escapes, hex and base64.

use base64::Engine;

/// One token of RDATA text: a word, or a quoted string with its escapes still as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub text: String,
    pub quoted: bool,
}

/// Splits RDATA text into tokens. Parentheses are dropped (a record spanning lines); `;`
/// outside quotes ends the text. Escapes are kept as written, for the field to decode.
pub fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ';' => break,
            '(' | ')' => {}
            c if c.is_whitespace() => {}
            '"' => {
                let mut text = String::new();
                let mut closed = false;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' => {
                            text.push('\\');
                            text.extend(chars.next());
                        }
                        other => text.push(other),
                    }
                }
                if !closed {
                    return Err("a quoted string is not closed".into());
                }
                out.push(Token { text, quoted: true });
            }
            c => {
                let mut text = String::from(c);
                let mut escaped = c == '\\';
                while let Some(&n) = chars.peek() {
                    if !escaped && (n.is_whitespace() || matches!(n, ';' | '(' | ')' | '"')) {
                        break;
                    }
                    escaped = !escaped && n == '\\';
                    text.push(n);
                    chars.next();
                }
                out.push(Token { text, quoted: false });
            }
        }
    }
    Ok(out)
}

/// The bytes of a token with its `\X` and `\DDD` escapes decoded.
pub fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let digits = bytes.get(i + 1..i + 4).filter(|d| d.iter().all(u8::is_ascii_digit));
        match (digits, bytes.get(i + 1)) {
            (Some(d), _) => {
                let value: u32 = d.iter().fold(0, |acc, b| acc * 10 + u32::from(b - b'0'));
                out.push(u8::try_from(value).map_err(|_| format!("the escape \\{value} is over 255"))?);
                i += 4;
            }
            (None, Some(b)) if !b.is_ascii_digit() => {
                out.push(*b);
                i += 2;
            }
            _ => return Err("a backslash must be followed by a character or three digits".into()),
        }
    }
    Ok(out)
}

/// A `<character-string>` as zone files write it: quoted, with `"` and `\` escaped and bytes
/// outside printable ASCII as `\DDD`.
pub fn quote(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for &b in bytes {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\{b:03}")),
        }
    }
    out.push('"');
    out
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

pub fn unhex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err("hex data needs an even number of digits".into());
    }
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| format!("'{}' is not hex", String::from_utf8_lossy(pair)))
        })
        .collect()
}

pub fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn unbase64(text: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD.decode(text).map_err(|_| format!("'{text}' is not valid base64"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_round_trip() {
        let tokens = tokens(r#"v=DKIM1 "a\"b" "\010\\z" ( x )"#).unwrap();
        assert_eq!(tokens.len(), 4);
        assert_eq!(unescape(&tokens[1].text).unwrap(), b"a\"b");
        assert_eq!(unescape(&tokens[2].text).unwrap(), b"\n\\z");
        assert_eq!(quote(b"\n\"\\z"), r#""\010\"\\z""#);
        assert!(unescape("\\256").is_err());
        assert_eq!(unhex("0a FF").unwrap(), [10, 255]);
    }
}
