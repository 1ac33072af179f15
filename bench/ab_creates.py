#!/usr/bin/env python3
"""Paired A/B of two nsbox binaries: sequential single-record creates (or, with --list N, lists
of an N-record zone), in alternating batches.

The disk of a small VM drifts by ±20 % within minutes, which swamps a 5-10 % change between two
separate runs. Here both servers run side by side on fresh data files and take turns: a batch
of creates on one, then on the other, the order flipping every round. Each round's B/A ratio
compares two batches a fraction of a second apart; the median of those ratios is the figure.

  python3 bench/ab_creates.py OLD_BINARY NEW_BINARY [--rounds 60] [--batch 200] [--warm 0] [--zones 0]
  python3 bench/ab_creates.py OLD_BINARY NEW_BINARY --list 10000 [--rounds 10] [--batch 10]
"""
import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import tempfile
import time

BODY = '{"type":"A","name":"%s%d","ttl":60,"content":"192.0.2.1"}'


class Server:
    def __init__(self, binary, workdir, index):
        data = os.path.join(workdir, "ab%d.redb" % index)
        env = dict(os.environ, NSBOX_PASSWORD="bench-password-1", RUST_LOG="warn")
        run = lambda *args: subprocess.run([binary, "--data", data, *args], env=env, capture_output=True,
                                           text=True, check=True).stdout.strip()
        run("user", "add", "bench", "--admin")
        token = run("token", "create", "--user", "bench", "--name", "ab")
        http_port, dns_port = free_ports()
        self.proc = subprocess.Popen(
            [binary, "--data", data, "serve", "--http", "127.0.0.1:%d" % http_port, "--dns", "127.0.0.1:%d" % dns_port,
             "--rate-create", "100000000", "--rate-read", "100000000"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.port, self.headers = http_port, {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
        for _ in range(100):
            try:
                self.connect()
                self.zone = json.loads(self.call("POST", "/api/v1/dns-zones/", '{"domain":"ab%d.test"}' % index))["uuid"]
                return
            except (ConnectionError, OSError):
                time.sleep(0.1)
        raise SystemExit("%s did not start" % binary)

    def connect(self):
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def call(self, method, path, body):
        for attempt in (1, 2):  # the other server's batch may outlast keep-alive
            try:
                self.conn.request(method, path, body=body, headers=self.headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.status >= 300:
                    raise SystemExit("%s %s: %d %s" % (method, path, response.status, data[:200]))
                return data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connect()
                if attempt == 2:
                    raise

    def fill(self, records):
        for start in range(0, records, 1000):
            body = [{"type": "A", "name": "l%d" % i, "content": "192.0.2.1"} for i in range(start, min(records, start + 1000))]
            self.call("POST", "/api/v1/domains/%s/dns/bulk" % self.zone, json.dumps({"records": body}))

    def list_latencies(self, count):
        """Milliseconds of each of `count` PocketDNS lists of the zone."""
        out = []
        for _ in range(count):
            start = time.perf_counter()
            self.call("GET", "/api/v1/domains/%s/dns" % self.zone, None)
            out.append((time.perf_counter() - start) * 1000)
        return out

    def creates_per_second(self, prefix, first, count):
        start = time.perf_counter()
        for i in range(first, first + count):
            self.call("POST", "/api/v1/domains/%s/dns" % self.zone, BODY % (prefix, i))
        return count / (time.perf_counter() - start)


def free_ports():
    """A free loopback TCP port for HTTP and a free UDP port for DNS."""
    tcp, udp = socket.socket(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with tcp, udp:
        tcp.bind(("127.0.0.1", 0))
        udp.bind(("127.0.0.1", 0))
        return tcp.getsockname()[1], udp.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rounds", type=int, default=60)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--warm", type=int, default=0, help="records created in each zone before measuring")
    ap.add_argument("--zones", type=int, default=0, help="other zones each server holds while measuring")
    ap.add_argument("--list", type=int, default=0, metavar="N", help="time lists of an N-record zone instead")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        servers = [Server(a.old, workdir, 0), Server(a.new, workdir, 1)]
        try:
            for server in servers:
                server.creates_per_second("w", 0, a.warm)
                for i in range(a.zones):
                    server.call("POST", "/api/v1/dns-zones/", '{"domain":"other%d.test"}' % i)
            if a.list:
                return compare_lists(a, servers)
            rates = ([], [])
            for r in range(a.rounds):
                for k in (0, 1) if r % 2 == 0 else (1, 0):
                    rates[k].append(servers[k].creates_per_second("h", r * a.batch, a.batch))
        finally:
            for server in servers:
                server.proc.terminate()
                server.proc.wait()
    for label, binary, rate in zip("AB", (a.old, a.new), rates):
        print("%s %s: median %.0f creates/s over %d batches of %d" % (label, binary, statistics.median(rate),
                                                                     a.rounds, a.batch))
    print("B/A, median of the per-round ratios: %.3f" % statistics.median(b / o for o, b in zip(*rates)))


def compare_lists(a, servers):
    for server in servers:
        server.fill(a.list)
    latencies = ([], [])
    for r in range(a.rounds):
        for k in (0, 1) if r % 2 == 0 else (1, 0):
            latencies[k].extend(servers[k].list_latencies(a.batch))
    for label, binary, times in zip("AB", (a.old, a.new), latencies):
        times.sort()
        at = lambda p: times[min(len(times) - 1, int(len(times) * p))]
        print("%s %s: list of %d records, p50 %.1f ms, p95 %.1f ms, p99 %.1f ms over %d lists" % (
            label, binary, a.list, at(0.5), at(0.95), at(0.99), len(times)))


if __name__ == "__main__":
    main()
