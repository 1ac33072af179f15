//! Counters for `/metrics` (Prometheus text format). The DNS path only bumps atomics in fixed
//! arrays: no lock, no allocation per query.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Query types counted by name (with their codes); everything else is "other".
const QTYPES: [(u16, &str); 13] = [
    (1, "A"),
    (28, "AAAA"),
    (5, "CNAME"),
    (15, "MX"),
    (16, "TXT"),
    (33, "SRV"),
    (2, "NS"),
    (257, "CAA"),
    (12, "PTR"),
    (6, "SOA"),
    (255, "ANY"),
    (252, "AXFR"),
    (251, "IXFR"),
];
const RCODES: usize = 24;
/// Upper bounds in seconds of the latency buckets.
const DNS_BUCKETS: [f64; 8] = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.025, 0.1];
const HTTP_BUCKETS: [f64; 9] = [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5];

struct Histogram<const N: usize> {
    bounds: [f64; N],
    counts: [AtomicU64; N],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl<const N: usize> Histogram<N> {
    fn new(bounds: [f64; N]) -> Self {
        Self {
            bounds,
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        }
    }

    fn observe(&self, took: Duration) {
        let secs = took.as_secs_f64();
        if let Some(i) = self.bounds.iter().position(|b| secs <= *b) {
            self.counts[i].fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_micros.fetch_add(took.as_micros() as u64, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            cumulative += count.load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {}", self.sum_micros.load(Relaxed) as f64 / 1e6);
        let _ = writeln!(out, "{name}_count {count}");
    }
}

pub struct Metrics {
    dns_queries: [[AtomicU64; QTYPES.len() + 1]; RCODES],
    dns_latency: Histogram<8>,
    http_requests: Mutex<HashMap<(String, u16), u64>>,
    http_latency: Histogram<9>,
    pub notifies_sent: AtomicU64,
    pub notifies_acknowledged: AtomicU64,
    pub transfers: [AtomicU64; 2],
    pub rate_limited: AtomicU64,
    /// UDP queries answered from the packet cache.
    pub packet_cache_hits: AtomicU64,
    pub signatures_made: AtomicU64,
    /// Per signed zone: its earliest signature expiry, and when signing it last failed.
    signed_zones: Mutex<std::collections::BTreeMap<String, Signing>>,
}

#[derive(Default)]
struct Signing {
    expires: Option<i64>,
    failed_at: Option<i64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            dns_queries: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
            dns_latency: Histogram::new(DNS_BUCKETS),
            http_requests: Mutex::default(),
            http_latency: Histogram::new(HTTP_BUCKETS),
            notifies_sent: AtomicU64::new(0),
            notifies_acknowledged: AtomicU64::new(0),
            transfers: [AtomicU64::new(0), AtomicU64::new(0)],
            rate_limited: AtomicU64::new(0),
            packet_cache_hits: AtomicU64::new(0),
            signatures_made: AtomicU64::new(0),
            signed_zones: Mutex::default(),
        }
    }
}

/// An RCODE's name as `dig` prints it.
fn rcode_name(code: usize) -> &'static str {
    [
        "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
        "NOTZONE",
    ]
    .get(code)
    .copied()
    .unwrap_or("OTHER")
}

impl Metrics {
    /// One DNS answer: its RCODE, the question's type, and how long it took.
    pub fn dns_answered(&self, rcode: u16, qtype: u16, took: Duration) {
        let t = QTYPES.iter().position(|(code, _)| *code == qtype).unwrap_or(QTYPES.len());
        let r = usize::from(rcode).min(RCODES - 1);
        self.dns_queries[r][t].fetch_add(1, Relaxed);
        self.dns_latency.observe(took);
    }

    /// One HTTP answer, by route pattern (not path: ids would explode the label set).
    pub fn http_answered(&self, route: &str, status: u16, took: Duration) {
        let mut requests = self.http_requests.lock().unwrap_or_else(|p| p.into_inner());
        *requests.entry((route.to_string(), status)).or_default() += 1;
        drop(requests);
        self.http_latency.observe(took);
    }

    /// The whole exposition; `zones` and `records` are gauges read at scrape time.
    /// A zone was signed (`Ok`: its earliest expiry and the signatures made) or failed to be;
    /// `None`: it is not signed (any more).
    pub fn zone_signed(&self, zone: &str, outcome: Option<Result<(i64, u64), ()>>, now: i64) {
        let mut zones = self.signed_zones.lock().unwrap_or_else(|p| p.into_inner());
        match outcome {
            None => {
                zones.remove(zone);
            }
            Some(Ok((expires, made))) => {
                self.signatures_made.fetch_add(made, Relaxed);
                zones.entry(zone.to_string()).or_default().expires = Some(expires);
            }
            Some(Err(())) => zones.entry(zone.to_string()).or_default().failed_at = Some(now),
        }
    }

    fn render_signing(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP nsbox_dnssec_signatures_total RRSIGs made.\n# TYPE nsbox_dnssec_signatures_total counter\nnsbox_dnssec_signatures_total {}",
            self.signatures_made.load(Relaxed)
        );
        let zones = self.signed_zones.lock().unwrap_or_else(|p| p.into_inner());
        let per_zone = |out: &mut String, name: &str, help: &str, value: fn(&Signing) -> Option<i64>| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            for (zone, state) in zones.iter() {
                if let Some(v) = value(state) {
                    let _ = writeln!(out, "{name}{{zone=\"{zone}\"}} {v}");
                }
            }
        };
        per_zone(
            out,
            "nsbox_dnssec_signature_expiry_seconds",
            "The earliest RRSIG expiry of a signed zone (Unix time).",
            |s| s.expires,
        );
        per_zone(out, "nsbox_dnssec_last_signing_error_seconds", "When signing a zone last failed (Unix time).", |s| {
            s.failed_at
        });
    }

    pub fn render(&self, zones: usize, records: u64) -> String {
        let mut out = String::with_capacity(8192);
        let _ = writeln!(
            out,
            "# HELP nsbox_dns_queries_total DNS answers by RCODE and query type.\n# TYPE nsbox_dns_queries_total counter"
        );
        for (r, row) in self.dns_queries.iter().enumerate() {
            for (t, count) in row.iter().enumerate() {
                let n = count.load(Relaxed);
                if n > 0 {
                    let qtype = QTYPES.get(t).map_or("other", |(_, name)| *name);
                    let _ =
                        writeln!(out, "nsbox_dns_queries_total{{rcode=\"{}\",qtype=\"{qtype}\"}} {n}", rcode_name(r));
                }
            }
        }
        self.dns_latency.render(&mut out, "nsbox_dns_answer_seconds", "Time to answer a DNS query.");
        let _ = writeln!(
            out,
            "# HELP nsbox_http_requests_total HTTP answers by route and status.\n# TYPE nsbox_http_requests_total counter"
        );
        let requests = self.http_requests.lock().unwrap_or_else(|p| p.into_inner());
        let mut rows: Vec<_> = requests.iter().collect();
        rows.sort();
        for ((route, status), n) in rows {
            let _ = writeln!(
                out,
                "nsbox_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                route.replace(['\\', '"'], "")
            );
        }
        drop(requests);
        self.http_latency.render(&mut out, "nsbox_http_request_seconds", "Time to answer an HTTP request.");
        let gauge = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        };
        gauge(&mut out, "nsbox_zones", "Zones served.", zones as u64);
        gauge(&mut out, "nsbox_records", "Records in all zones.", records);
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
        };
        counter(
            &mut out,
            "nsbox_notify_sent_total",
            "NOTIFY messages sent to secondaries.",
            self.notifies_sent.load(Relaxed),
        );
        counter(
            &mut out,
            "nsbox_notify_acknowledged_total",
            "NOTIFY messages secondaries acknowledged.",
            self.notifies_acknowledged.load(Relaxed),
        );
        let _ =
            writeln!(out, "# HELP nsbox_transfers_total Zone transfers served.\n# TYPE nsbox_transfers_total counter");
        let _ = writeln!(out, "nsbox_transfers_total{{kind=\"AXFR\"}} {}", self.transfers[0].load(Relaxed));
        let _ = writeln!(out, "nsbox_transfers_total{{kind=\"IXFR\"}} {}", self.transfers[1].load(Relaxed));
        counter(
            &mut out,
            "nsbox_rate_limited_total",
            "API requests refused by the rate limits.",
            self.rate_limited.load(Relaxed),
        );
        counter(
            &mut out,
            "nsbox_dns_packet_cache_hits_total",
            "UDP queries answered with a copy of the answer to the same question.",
            self.packet_cache_hits.load(Relaxed),
        );
        self.render_signing(&mut out);
        out
    }
}
