//! Records written as text: one zone-file line (`www 300 IN A 192.0.2.1`, `@ MX 10 mail`) or
//! one CSV row (`name,type,content[,ttl[,priority]]`). The console's bulk paste reads these;
//! the result still goes through `record::validate_record`.

use super::record::{RecordInput, RecordType};

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
}
