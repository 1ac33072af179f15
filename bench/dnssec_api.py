#!/usr/bin/env python3
"""API timings for the DNSSEC benchmark: signing a loaded zone, and sequential creates.

  dnssec_api.py sign --base URL --token T --zone ID          seconds the signing call took
  dnssec_api.py creates --base URL --token T --zone ID [-n 1000]   creates per second
"""
import argparse
import http.client
import json
import time
from urllib.parse import urlparse


def connection(base):
    url = urlparse(base)
    return http.client.HTTPConnection(url.hostname, url.port, timeout=600)


def call(conn, token, method, path, body=None):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    text = response.read()
    if response.status >= 300:
        raise SystemExit(f"{method} {path}: {response.status} {text[:200]!r}")
    return text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["sign", "creates"])
    ap.add_argument("--base", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--zone", required=True)
    ap.add_argument("-n", type=int, default=1000)
    a = ap.parse_args()
    conn = connection(a.base)
    if a.what == "sign":
        start = time.perf_counter()
        call(conn, a.token, "POST", f"/api/v1/dns-zones/{a.zone}/dnssec", {"algorithm": "ecdsap256sha256"})
        print(f"{time.perf_counter() - start:.3f}")
        return
    start = time.perf_counter()
    run = int(start * 1000) % 1_000_000
    for i in range(a.n):
        body = {"name": f"bench-create-{run}-{i}", "record_type": "A", "value": "192.0.2.1"}
        call(conn, a.token, "POST", f"/api/v1/dns-zones/{a.zone}/records", body)
    print(f"{a.n / (time.perf_counter() - start):.1f}")


if __name__ == "__main__":
    main()
