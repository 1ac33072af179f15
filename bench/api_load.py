#!/usr/bin/env python3
"""Load benchmark of nsbox's REST API (stdlib only). Against a running nsbox:

  api_load.py --base http://127.0.0.1:8080 --token vps_... [--creates 1000] [--records 10000]

(a) single-record creates, one request at a time: rate and latency percentiles;
(b) listing a zone of --records records (PocketDNS and VPS.org dialects): latency percentiles;
(c) 50 concurrent readers for --seconds: throughput and latency percentiles;
(d) the token check: GET /api/v1/me (authenticated, a few bytes from memory) vs the
    unauthenticated GET /healthz, interleaved, after the token's first use; and the check's
    own server-side time (Server-Timing auth) against the whole answer's (app);
(e) the console's zone page of that large zone: server-side time (Server-Timing).
"""
import argparse
import http.client
import json
import statistics
import threading
import time
from urllib.parse import urlparse


class Client:
    def __init__(self, base, token):
        u = urlparse(base)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        self.headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"} if token else {}

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        self.conn.request(method, path, body=data, headers=self.headers)
        r = self.conn.getresponse()
        payload = r.read()
        self.timing = server_timing(r.getheader("Server-Timing") or "")
        return r.status, payload


def pct(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * p / 100))] * 1000


def summary(samples):
    return "p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms" % (
        pct(samples, 50), pct(samples, 95), pct(samples, 99), max(samples) * 1000)


def server_timing(header):
    """{"app": ms, "auth": ms} from a Server-Timing header."""
    out = {}
    for part in header.split(","):
        name, _, dur = part.strip().partition(";dur=")
        if dur:
            out[name] = float(dur)
    return out


def timed(fn):
    t = time.perf_counter()
    status, _ = fn()
    return time.perf_counter() - t, status


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--creates", type=int, default=1000)
    ap.add_argument("--records", type=int, default=10000)
    ap.add_argument("--lists", type=int, default=200)
    ap.add_argument("--readers", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--user", default="bench")
    ap.add_argument("--password", default="bench-password-1")
    a = ap.parse_args()
    c = Client(a.base, a.token)
    stamp = int(time.time())

    # (a) sequential creates
    status, body = c.call("POST", "/api/v1/dns-zones/", {"domain": "creates-%d.test" % stamp})
    zone = json.loads(body)["uuid"]
    lat = []
    start = time.perf_counter()
    for i in range(a.creates):
        d, s = timed(lambda: c.call("POST", "/api/v1/domains/%s/dns" % zone,
                                    {"type": "A", "name": "h%d" % i, "content": "192.0.2.%d" % (i % 250 + 1), "ttl": 60}))
        assert s == 201, s
        lat.append(d)
    elapsed = time.perf_counter() - start
    print("(a) %d sequential creates: %.0f/s; %s" % (a.creates, a.creates / elapsed, summary(lat)))

    # (b) list a large zone
    status, body = c.call("POST", "/api/v1/dns-zones/", {"domain": "big-%d.test" % stamp})
    big = json.loads(body)["uuid"]
    for start_i in range(0, a.records, 1000):
        recs = [{"type": "A", "name": "n%d" % i, "content": "198.51.100.%d" % (i % 250 + 1)}
                for i in range(start_i, min(a.records, start_i + 1000))]
        s, _ = c.call("POST", "/api/v1/domains/%s/dns/bulk" % big, {"records": recs})
        assert s in (200, 201), s
    for path, label in (("/api/v1/domains/%s/dns" % big, "PocketDNS"), ("/api/v1/dns-zones/%s/records/" % big, "VPS.org")):
        lat = [timed(lambda: c.call("GET", path))[0] for _ in range(a.lists)]
        print("(b) list a %d-record zone (%s), %d times: %s" % (a.records, label, a.lists, summary(lat)))
    console_render(a, big, a.records)

    # (c) concurrent readers
    results, lock = [], threading.Lock()
    deadline = time.perf_counter() + a.seconds

    def reader(n):
        cl = Client(a.base, a.token)
        mine = []
        while time.perf_counter() < deadline:
            d, s = timed(lambda: cl.call("GET", "/api/v1/dns-records/?zone=%s" % zone))
            mine.append(d)
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(a.readers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("(c) %d concurrent readers of a %d-record zone for %.0f s: %.0f req/s; %s" % (
        a.readers, a.creates, a.seconds, len(results) / a.seconds, summary(results)))

    # (d) token check cost (fresh connections: the old one idled past keep-alive)
    c = Client(a.base, a.token)
    anon = Client(a.base, "")
    for _ in range(50):
        c.call("GET", "/api/v1/me")
        anon.call("GET", "/healthz")
    auth, plain, check, app = [], [], [], []
    for _ in range(3000):  # interleaved, so both see the same machine
        auth.append(timed(lambda: c.call("GET", "/api/v1/me"))[0])
        check.append(c.timing["auth"] / 1000)
        app.append(c.timing["app"] / 1000)
        plain.append(timed(lambda: anon.call("GET", "/healthz"))[0])
    print("(d) authenticated GET /api/v1/me: p50 %.3f ms p99 %.3f ms; unauthenticated GET /healthz: p50 %.3f ms p99 %.3f ms" % (
        pct(auth, 50), pct(auth, 99), pct(plain, 50), pct(plain, 99)))
    print("(d) server-side, the token check and rate limit: p50 %.4f ms p99 %.4f ms, of the whole /api/v1/me answer: p50 %.4f ms p99 %.4f ms" % (
        pct(check, 50), pct(check, 99), pct(app, 50), pct(app, 99)))


def console_render(a, zone, records):
    """(e) The console's zone page of a large zone: server-side time from Server-Timing."""
    u = urlparse(a.base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.request("GET", "/login")
    r = conn.getresponse()
    body = r.read().decode()
    cookie = r.getheader("Set-Cookie").split(";")[0]
    csrf = body.split('name="csrf" value="')[1].split('"')[0]
    form = "username=%s&password=%s&csrf=%s&next=/" % (a.user, a.password, csrf)
    conn.request("POST", "/login", body=form, headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    r = conn.getresponse()
    r.read()
    session = r.getheader("Set-Cookie").split(";")[0]
    server, total = [], []
    for _ in range(50):
        t = time.perf_counter()
        conn.request("GET", "/zones/%s" % zone, headers={"Cookie": session})
        r = conn.getresponse()
        r.read()
        total.append(time.perf_counter() - t)
        server.append(float(r.getheader("Server-Timing").split("dur=")[1]) / 1000)
    print("(e) console page of a %d-record zone, 50 times: server-side %s; end to end p50 %.2f ms" % (
        records, summary(server), pct(total, 50)))


if __name__ == "__main__":
    main()
