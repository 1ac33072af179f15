//! /metrics in Prometheus text format, read back with Prometheus's own parser
//! (prometheus-client for Python), and its optional protection.

use std::process::Command;

use nsbox::config::ServeConfig;
use serde_json::{Value, json};

use crate::dig::dig;
use crate::support::Server;

/// Every sample as {"name", "labels", "value"}, parsed by prometheus_client.
fn parse(text: &str) -> Vec<Value> {
    let script = "import sys, json\nfrom prometheus_client.parser import text_string_to_metric_families\n\
        out = [{'name': s.name, 'labels': s.labels, 'value': s.value} for f in text_string_to_metric_families(sys.stdin.read()) for s in f.samples]\n\
        print(json.dumps(out))";
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the Prometheus parser refused the exposition:\n{text}");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn sample(samples: &[Value], name: &str, labels: Value) -> f64 {
    samples
        .iter()
        .find(|s| s["name"] == name && labels.as_object().unwrap().iter().all(|(k, v)| &s["labels"][k] == v))
        .and_then(|s| s["value"].as_f64())
        .unwrap_or(0.0)
}

#[test]
fn metrics_count_dns_and_api_and_parse_as_prometheus() {
    let s = Server::start_with(ServeConfig { rate_read: 3, ..ServeConfig::default() });
    let t = s.user_token("metrics", &[], &[]);
    let z = s.zone(&t, "example.com");
    s.post(&format!("/api/v1/domains/{z}/dns"), &t, json!({"type": "A", "name": "www", "content": "192.0.2.1"}));
    for _ in 0..3 {
        dig(s.dns, &["www.example.com", "A"]);
    }
    dig(s.dns, &["nope.example.com", "AAAA"]);
    dig(s.dns, &["example.net", "A"]);
    for _ in 0..4 {
        s.get(&format!("/api/v1/dns-zones/{z}/"), &t);
    }
    let text = ureq::get(&format!("{}/metrics", s.base)).call().unwrap().into_string().unwrap();
    let samples = parse(&text);
    assert_eq!(sample(&samples, "nsbox_dns_queries_total", json!({"rcode": "NOERROR", "qtype": "A"})), 3.0, "{text}");
    assert_eq!(sample(&samples, "nsbox_dns_queries_total", json!({"rcode": "NXDOMAIN", "qtype": "AAAA"})), 1.0);
    assert_eq!(sample(&samples, "nsbox_dns_queries_total", json!({"rcode": "REFUSED", "qtype": "A"})), 1.0);
    assert!(sample(&samples, "nsbox_dns_answer_seconds_count", json!({})) >= 5.0);
    assert_eq!(
        sample(&samples, "nsbox_http_requests_total", json!({"route": "/api/v1/dns-zones/{uuid}", "status": "200"})),
        3.0
    );
    assert_eq!(
        sample(&samples, "nsbox_http_requests_total", json!({"route": "/api/v1/dns-zones/{uuid}", "status": "429"})),
        1.0
    );
    assert_eq!(sample(&samples, "nsbox_rate_limited_total", json!({})), 1.0);
    assert!(sample(&samples, "nsbox_http_request_seconds_count", json!({})) >= 5.0);
    assert_eq!((sample(&samples, "nsbox_zones", json!({})), sample(&samples, "nsbox_records", json!({}))), (1.0, 1.0));
    assert!(text.contains("nsbox_transfers_total{kind=\"AXFR\"} 0") && text.contains("nsbox_notify_sent_total 0"));
}

#[test]
fn metrics_can_require_a_token_or_an_address() {
    let s = Server::start_with(ServeConfig { metrics_token: Some("scrape-secret".into()), ..ServeConfig::default() });
    let get = |token: Option<&str>| {
        let mut req = ureq::get(&format!("{}/metrics", s.base));
        if let Some(t) = token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        match req.call() {
            Ok(r) => r.status(),
            Err(ureq::Error::Status(code, _)) => code,
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!((get(None), get(Some("wrong")), get(Some("scrape-secret"))), (403, 403, 200));
    let elsewhere = Server::start_with(ServeConfig {
        metrics_allow: vec!["192.0.2.0/24".parse().unwrap()],
        ..ServeConfig::default()
    });
    let status = match ureq::get(&format!("{}/metrics", elsewhere.base)).call() {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(code, _)) => code,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(status, 403, "loopback is not in the allowed list");
}
