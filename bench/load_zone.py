#!/usr/bin/env python3
"""Loads a BIND zone file of the simple form gen-zone.py writes (owner ttl IN type rdata, one
record a line, $ORIGIN/$TTL lines) into a running nsbox through its bulk API.

  load_zone.py --base http://127.0.0.1:8080 --token vps_... --zone FILE
Prints the zone id. SOA records are skipped: nsbox makes its own.
"""
import argparse
import http.client
import json
from urllib.parse import urlparse


def strip_comment(line):
    """The line without a `;` comment (a `;` inside quotes is data)."""
    quoted = False
    for i, c in enumerate(line):
        if c == '"' and (i == 0 or line[i - 1] != "\\"):
            quoted = not quoted
        elif c == ";" and not quoted:
            return line[:i].rstrip()
    return line.rstrip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--zone", required=True)
    a = ap.parse_args()
    u = urlparse(a.base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    headers = {"Authorization": "Bearer " + a.token, "Content-Type": "application/json"}

    def call(method, path, body):
        conn.request(method, path, body=json.dumps(body).encode(), headers=headers)
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"null")

    origin, records = None, []
    for line in open(a.zone):
        line = strip_comment(line)
        if not line.strip():
            continue
        if line.startswith("$ORIGIN"):
            origin = line.split()[1]
            continue
        if line.startswith("$"):
            continue
        owner, ttl, _cls, rtype, rdata = line.split(None, 4)
        if rtype == "SOA":
            continue
        records.append({"type": rtype, "name": owner, "content": rdata, "ttl": int(ttl)})
    status, zone = call("POST", "/api/v1/dns-zones/", {"domain": origin})
    assert status == 201, zone
    errors = 0
    for i in range(0, len(records), 1000):
        status, body = call("POST", "/api/v1/domains/%s/dns/bulk" % zone["uuid"], {"records": records[i:i + 1000]})
        errors += len(body["errors"])
        for e in body["errors"][:3]:
            print("refused:", e)
    print(zone["uuid"], len(records) - errors, "records loaded,", errors, "refused")


if __name__ == "__main__":
    main()
