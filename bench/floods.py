#!/usr/bin/env python3
"""Peak memory of a running nsbox under what a stranger can send: parallel sign-ins with wrong
passwords, parallel API calls with a real token id and wrong secrets, and parallel dry-run
imports of the largest zone file accepted. Prints the server's peak RSS (VmHWM) after each.

Used by `bench/run.sh floods`; loopback only, bounded counts."""
import argparse
import http.client
import json
import re
import threading
import time


def peak_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) / 1024


def parallel(n, work):
    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--flood", choices=["secrets", "sign-ins", "imports"], required=True)
    args = p.parse_args()
    statuses = {}
    slowest = [0.0]  # the slowest /healthz asked during the sign-ins

    def count(label, status):
        statuses.setdefault(label, {}).setdefault(status, 0)
        statuses[label][status] += 1

    def sign_in(i):
        c = http.client.HTTPConnection("127.0.0.1", args.port, timeout=120)
        c.request("GET", "/login")
        r = c.getresponse()
        cookie = (r.getheader("Set-Cookie") or "").split(";")[0]
        csrf = re.search(r'name="csrf" value="([^"]+)"', r.read().decode()).group(1)
        body = f"username=bench&password=wrong-guess-{i}&csrf={csrf}&next=/"
        c.request("POST", "/login", body, {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
        count("sign-in", c.getresponse().status)
        health = http.client.HTTPConnection("127.0.0.1", args.port, timeout=120)
        started = time.monotonic()
        health.request("GET", "/healthz")
        health.getresponse().read()
        slowest[0] = max(slowest[0], time.monotonic() - started)

    forged = args.token[:-5] + "zzzzz"

    def bad_secret(_):
        c = http.client.HTTPConnection("127.0.0.1", args.port, timeout=120)
        c.request("GET", "/api/v1/me", headers={"Authorization": "Bearer " + forged})
        count("bad secret", c.getresponse().status)

    h = {"Authorization": "Bearer " + args.token}
    c = http.client.HTTPConnection("127.0.0.1", args.port, timeout=600)
    c.request("POST", "/api/v1/dns-zones/", json.dumps({"domain": "flood.example"}), h)
    zone = json.loads(c.getresponse().read())["uuid"]
    line = "h%d 300 IN TXT \"" + "x" * 200 + "\"\n"
    text = "$ORIGIN flood.example.\n"
    lines, size = [], len(text)
    while size < (16 << 20) - 300:
        lines.append(line % len(lines))
        size += len(lines[-1])
    text = (text + "".join(lines)).encode()

    def dry_import(_):
        c = http.client.HTTPConnection("127.0.0.1", args.port, timeout=600)
        c.request("POST", f"/api/v1/dns-zones/{zone}/import?dry_run=true", text,
                  dict(h, **{"Content-Type": "text/dns"}))
        count("import", c.getresponse().status)

    base = peak_mib(args.pid)
    if args.flood == "secrets":
        parallel(150, bad_secret)
        print(f"150 parallel calls with a real token id and a wrong secret: peak RSS {base:.1f} -> {peak_mib(args.pid):.1f} MiB; answers {statuses['bad secret']}")
    elif args.flood == "sign-ins":
        parallel(300, sign_in)
        print(f"300 parallel sign-ins with wrong passwords: peak RSS {base:.1f} -> {peak_mib(args.pid):.1f} MiB; answers {statuses['sign-in']}; slowest /healthz beside them {slowest[0] * 1000:.0f} ms")
    else:
        parallel(3, dry_import)
        print(f"3 parallel dry-run imports of {len(text) >> 20} MiB zone files: peak RSS {base:.1f} -> {peak_mib(args.pid):.1f} MiB; answers {statuses['import']}")

if __name__ == "__main__":
    main()
