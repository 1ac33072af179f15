//! Records as text. Whole BIND master files in (`parse_zone`: `$ORIGIN`, `$TTL`, parentheses,
//! comments, quoted strings, omitted owner/TTL/class) and out (`export`); and single lines for
//! the console's bulk paste: a zone-file line (`www 300 IN A 192.0.2.1`) or a CSV row
//! (`name,type,content[,ttl[,priority]]`). Whatever is read still goes through
//! `record::validate_record`.

use super::rdata::{self, Names};
use super::record::{self, RecordData, RecordInput, RecordType};
use super::zone::Zone;

/// One line as a record, or why it is not one. Blank lines and comments give None.
pub fn parse_line(line: &str) -> Option<Result<RecordInput, String>> {
    let line = line.trim();
    if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
        return None;
    }
    let first = line.split_whitespace().next().unwrap_or_default();
    Some(if first.contains(',') { parse_csv(line) } else { parse_zone_line(line) })
}

fn parse_zone_line(line: &str) -> Result<RecordInput, String> {
    let mut rest = line;
    let mut take = || {
        let trimmed = rest.trim_start();
        let end = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
        let (token, after) = trimmed.split_at(end);
        rest = after;
        token
    };
    let name = take().to_string();
    let mut ttl = None;
    let mut token = take();
    for _ in 0..2 {
        if let Ok(t) = token.parse::<i64>() {
            ttl = Some(t);
            token = take();
        } else if token.eq_ignore_ascii_case("IN") {
            token = take();
        }
    }
    if token.parse::<RecordType>().is_err() {
        return Err(format!("'{token}' is not a supported record type"));
    }
    let content = rest.trim().to_string();
    if content.is_empty() {
        return Err("the record has no data".into());
    }
    Ok(RecordInput { rtype: Some(token.to_string()), name: Some(name), content: Some(content), ttl, priority: None })
}

fn parse_csv(line: &str) -> Result<RecordInput, String> {
    let fields = csv_fields(line);
    let [name, rtype, content, rest @ ..] = fields.as_slice() else {
        return Err("a CSV line needs at least name,type,content".into());
    };
    let number = |i: usize, what: &str| -> Result<Option<i64>, String> {
        match rest.get(i).map(|s| s.trim()).filter(|s| !s.is_empty()) {
            Some(v) => v.parse().map(Some).map_err(|_| format!("{what} '{v}' is not a number")),
            None => Ok(None),
        }
    };
    Ok(RecordInput {
        rtype: Some(rtype.trim().to_string()),
        name: Some(name.trim().to_string()),
        content: Some(content.trim().to_string()),
        ttl: number(0, "TTL")?,
        priority: number(1, "priority")?,
    })
}

/// Splits a CSV line; double quotes group (and `""` escapes) as in RFC 4180.
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                push(&mut fields, '"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => push(&mut fields, c),
        }
    }
    fields
}

/// One record of a master file, with the line it starts on.
#[derive(Debug, Clone)]
pub struct ParsedRecord {
    pub line: usize,
    pub input: RecordInput,
}

/// A line of a master file that is not a record nsbox can take, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub line: usize,
    pub reason: String,
}

/// The records of a BIND master file for `zone`. SOA records are read for nothing but their
/// place (nsbox makes its own); unsupported types and broken lines are refused line by line.
pub fn parse_zone(text: &str, zone: &str) -> (Vec<ParsedRecord>, Vec<Refusal>, Vec<Refusal>) {
    let mut records = Vec::new();
    let mut refused = Vec::new();
    // The signatures and denial records of a signed zone: dropped, one warning a kind.
    let mut signed: Vec<(String, usize, usize)> = Vec::new();
    let mut origin = format!("{zone}.");
    let mut default_ttl: Option<i64> = None;
    let mut last_owner: Option<String> = None;
    for entry in entries(text) {
        let line = entry.line;
        let refuse = |reason: String| Refusal { line, reason };
        let Some(first) = entry.tokens.first() else { continue };
        if entry.unclosed {
            refused.push(refuse("a quoted string is not closed on its line".into()));
            continue;
        }
        match first.text.to_ascii_uppercase().as_str() {
            "$ORIGIN" => match entry.tokens.get(1) {
                Some(t) => origin = absolute(&t.text, &origin),
                None => refused.push(refuse("$ORIGIN needs a name".into())),
            },
            "$TTL" => match entry.tokens.get(1).and_then(|t| parse_ttl(&t.text)) {
                Some(ttl) => default_ttl = Some(ttl),
                None => refused.push(refuse("$TTL needs a number of seconds".into())),
            },
            "$INCLUDE" => {
                refused.push(refuse("$INCLUDE is not supported: paste the included file's records instead".into()))
            }
            d if d.starts_with('$') => refused.push(refuse(format!("unknown directive {d}"))),
            _ => match record(&entry, &origin, &mut last_owner, default_ttl) {
                Ok(Line::Record(input)) => records.push(ParsedRecord { line, input }),
                Ok(Line::Soa) => {}
                Ok(Line::Signed(kind)) => note_signed(&mut signed, kind, line),
                Err(reason) => refused.push(refuse(reason)),
            },
        }
    }
    // A signed zone's own keys go with its signatures: nsbox signs with keys of its own.
    if signed.iter().any(|(kind, ..)| kind == "RRSIG") {
        let apex = format!("{zone}.");
        records.retain(|r| {
            let key = r.input.rtype.as_deref() == Some("DNSKEY") && r.input.name.as_deref() == Some(apex.as_str());
            if key {
                note_signed(&mut signed, "DNSKEY".into(), r.line);
            }
            !key
        });
    }
    let warnings = signed
        .into_iter()
        .map(|(kind, line, count)| Refusal {
            line,
            reason: format!("{count} {kind} record(s) of the signed source zone dropped: nsbox signs zones itself"),
        })
        .collect();
    (records, refused, warnings)
}

fn note_signed(signed: &mut Vec<(String, usize, usize)>, kind: String, line: usize) {
    match signed.iter_mut().find(|(k, ..)| *k == kind) {
        Some((_, _, count)) => *count += 1,
        None => signed.push((kind, line, 1)),
    }
}

/// What one entry of a master file is.
enum Line {
    Record(RecordInput),
    /// nsbox makes its own SOA.
    Soa,
    /// A signature or denial record of a signed zone (RRSIG, NSEC, NSEC3, NSEC3PARAM).
    Signed(String),
}

struct Token {
    text: String,
    quoted: bool,
}

struct Entry {
    line: usize,
    /// A quoted string ran to the end of its line without its closing quote.
    unclosed: bool,
    /// Whether the entry began with white space: the owner is the previous one's.
    indented: bool,
    tokens: Vec<Token>,
}

/// Splits a master file into entries: parentheses join lines, `;` starts a comment outside
/// quotes, and `\X` / `\DDD` escapes are kept as written inside unquoted tokens.
fn entries(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut current: Option<Entry> = None;
    let mut depth = 0usize;
    for (number, raw) in text.lines().enumerate() {
        let line = number + 1;
        let mut chars = raw.chars().peekable();
        if current.is_none() {
            current = Some(Entry { line, unclosed: false, indented: raw.starts_with([' ', '\t']), tokens: Vec::new() });
        }
        let Some(entry) = current.as_mut() else { continue };
        let (tokens, unclosed) = (&mut entry.tokens, &mut entry.unclosed);
        while let Some(c) = chars.next() {
            match c {
                ';' => break,
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                c if c.is_whitespace() => {}
                '"' => {
                    // Escapes stay as written: the record's type decodes them.
                    let mut text = String::new();
                    *unclosed = true;
                    while let Some(q) = chars.next() {
                        match q {
                            '"' => {
                                *unclosed = false;
                                break;
                            }
                            '\\' => {
                                text.push('\\');
                                text.extend(chars.next());
                            }
                            other => text.push(other),
                        }
                    }
                    tokens.push(Token { text, quoted: true });
                }
                c => {
                    let mut text = String::from(c);
                    while let Some(&n) = chars.peek() {
                        if n.is_whitespace() || matches!(n, ';' | '(' | ')' | '"') {
                            break;
                        }
                        text.push(n);
                        chars.next();
                    }
                    tokens.push(Token { text, quoted: false });
                }
            }
        }
        if depth == 0
            && let Some(done) = current.take().filter(|e| !e.tokens.is_empty())
        {
            out.push(done);
        }
    }
    out.extend(current.filter(|e| !e.tokens.is_empty()));
    out
}

fn parse_ttl(text: &str) -> Option<i64> {
    // BIND's unit suffixes: 1h30m, 2d, 1w.
    if let Ok(n) = text.parse() {
        return Some(n);
    }
    let mut total = 0i64;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return None,
        };
        total += number.parse::<i64>().ok()? * unit;
        number.clear();
    }
    if !number.is_empty() {
        return None;
    }
    Some(total)
}

/// `name` made absolute against `origin` (which ends with a dot).
fn absolute(name: &str, origin: &str) -> String {
    match name {
        "@" => origin.to_string(),
        n if n.ends_with('.') => n.to_string(),
        n => format!("{n}.{origin}"),
    }
}

fn record(
    entry: &Entry,
    origin: &str,
    last_owner: &mut Option<String>,
    default_ttl: Option<i64>,
) -> Result<Line, String> {
    let mut tokens = entry.tokens.iter().peekable();
    let owner = if entry.indented {
        last_owner.clone().ok_or("the first record needs an owner name")?
    } else {
        let t = tokens.next().ok_or("empty record")?;
        absolute(&t.text, origin)
    };
    *last_owner = Some(owner.clone());
    let mut ttl = None;
    let mut rtype = None;
    for t in tokens.by_ref() {
        if let Some(n) = parse_ttl(&t.text).filter(|_| !t.quoted && ttl.is_none()) {
            ttl = Some(n);
        } else if ["IN", "CH", "HS"].contains(&t.text.to_ascii_uppercase().as_str()) {
            if !t.text.eq_ignore_ascii_case("IN") {
                return Err(format!("class {} is not served: only IN", t.text));
            }
        } else {
            rtype = Some(t.text.to_ascii_uppercase());
            break;
        }
    }
    let rtype = rtype.ok_or("the record has no type")?;
    if rtype == "SOA" {
        return Ok(Line::Soa);
    }
    if ["RRSIG", "NSEC", "NSEC3", "NSEC3PARAM"].contains(&rtype.as_str()) {
        return Ok(Line::Signed(rtype));
    }
    let parsed_type = rtype.parse::<RecordType>().map_err(|e| e.message)?;
    let rest: Vec<&Token> = tokens.collect();
    if rest.is_empty() {
        return Err("the record has no data".into());
    }
    // The data as written, read by the type's one definition: names relative to the origin
    // become absolute, and the canonical text is what the validator then checks.
    let written: Vec<String> =
        rest.iter().map(|t| if t.quoted { format!("\"{}\"", t.text) } else { t.text.clone() }).collect();
    let wire = rdata::parse(parsed_type, &written.join(" "), Names::RelativeTo(origin.trim_end_matches('.')))
        .map_err(|e| format!("invalid {rtype} data: {e}"))?;
    let content = rdata::print(parsed_type, &wire, false)?;
    Ok(Line::Record(RecordInput {
        rtype: Some(parsed_type.to_string()),
        name: Some(owner),
        content: Some(content),
        ttl: ttl.or(default_ttl),
        priority: None,
    }))
}

/// The zone as a BIND master file: names relative to `$ORIGIN`, TXT as quoted strings of at
/// most 255 bytes. `soa` and `ns` are the SOA and apex NS the nameserver serves.
pub fn export(zone: &Zone, soa: &str, apex_ns: &[String], records: &[RecordData]) -> String {
    let mut out = format!("; {} exported by nsbox\n$ORIGIN {}.\n$TTL 3600\n", zone.domain, zone.domain);
    out.push_str(&format!("@\t3600\tIN\tSOA\t{soa}\n"));
    for ns in apex_ns {
        out.push_str(&format!("@\t3600\tIN\tNS\t{ns}.\n"));
    }
    let mut sorted: Vec<&RecordData> = records.iter().collect();
    sorted.sort_by(|a, b| (a.name != "@").cmp(&(b.name != "@")).then(a.name.cmp(&b.name)).then(a.rtype.cmp(&b.rtype)));
    for r in sorted {
        let Some(data) = record::presentation(r) else { continue };
        let owner = if r.name == "@" { "@".to_string() } else { r.name.clone() };
        out.push_str(&format!("{owner}\t{}\tIN\t{}\t{data}\n", r.ttl, r.rtype));
    }
    out
}

fn push(fields: &mut [String], c: char) {
    if let Some(field) = fields.last_mut() {
        field.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_lines_and_csv() {
        let r = parse_line("www 300 IN A 192.0.2.1").unwrap().unwrap();
        assert_eq!(
            (r.name.as_deref(), r.rtype.as_deref(), r.content.as_deref(), r.ttl),
            (Some("www"), Some("A"), Some("192.0.2.1"), Some(300))
        );
        let mx = parse_line("@ MX 10 mail.example.com.").unwrap().unwrap();
        assert_eq!(mx.content.as_deref(), Some("10 mail.example.com."));
        let txt = parse_line("@ IN TXT \"v=spf1 mx -all\"").unwrap().unwrap();
        assert_eq!(txt.content.as_deref(), Some("\"v=spf1 mx -all\""));
        let csv = parse_line("_dmarc,TXT,\"v=DMARC1; p=none, sp=none\",3600").unwrap().unwrap();
        assert_eq!((csv.content.as_deref(), csv.ttl), (Some("v=DMARC1; p=none, sp=none"), Some(3600)));
        let mx_csv = parse_line("@,MX,mail.example.com,3600,10").unwrap().unwrap();
        assert_eq!(mx_csv.priority, Some(10));
        assert!(parse_line("; comment").is_none());
        assert!(parse_line("www 300 IN BOGUS x").unwrap().is_err());
    }

    #[test]
    fn master_files() {
        let text = "$ORIGIN example.com.\n$TTL 1h\n@ IN SOA ns1 host ( 1 2\n 3 4 5 ) ; comment\n  IN NS ns1\nwww 300 A 192.0.2.1 ; web\n\tAAAA 2001:db8::1\nmail IN MX 10 mx.example.net.\n@ TXT \"v=spf1 \\\"x\\\"; -all\" \"tail\"\n_sip._tcp SRV 10 60 5060 sip\nx HINFO a b\n$INCLUDE other\n";
        let (records, refused, _) = parse_zone(text, "example.com");
        let shown: Vec<(usize, String, String, String, Option<i64>)> = records
            .iter()
            .map(|r| {
                (
                    r.line,
                    r.input.name.clone().unwrap(),
                    r.input.rtype.clone().unwrap(),
                    r.input.content.clone().unwrap(),
                    r.input.ttl,
                )
            })
            .collect();
        assert_eq!(shown[0], (5, "example.com.".into(), "NS".into(), "ns1.example.com".into(), Some(3600)));
        assert_eq!(shown[1], (6, "www.example.com.".into(), "A".into(), "192.0.2.1".into(), Some(300)));
        assert_eq!(shown[2].1, "www.example.com.", "an indented line keeps the owner");
        assert_eq!(shown[3].3, "10 mx.example.net");
        assert_eq!(shown[4].3, "\"v=spf1 \\\"x\\\"; -all\" \"tail\"", "strings and escapes kept");
        assert_eq!(shown[5].3, "10 60 5060 sip.example.com");
        assert_eq!(shown[6].3, "\"a\" \"b\"", "HINFO, a type of its own");
        assert_eq!(refused.iter().map(|r| r.line).collect::<Vec<_>>(), [12]);
    }
}
