#!/usr/bin/python3
"""WebSocket against plain TCP fan-out on one parley-server, and the server before and
after a change on plain TCP: alternating runs of the shared load generator, medians, and
the event-loop lag p99 under the load (from /metrics, the histogram's growth over each
run). Prints a Markdown table and writes the raw JSON lines next to it.

  bench/ws_vs_tcp.py LOADGEN SERVER [BASELINE_SERVER] [--runs 3] [--msgs 1000000] [--out FILE]
"""
import argparse
import json
import re
import signal
import socket
import statistics
import subprocess
import time
import urllib.request


def start(binary, port, http_port=None):
    args = [binary, "--listen", f"127.0.0.1:{port}", "--log-level", "warn"]
    if http_port:
        args += ["--http-listen", f"127.0.0.1:{http_port}"]
    proc = subprocess.Popen(args)  # warnings (none expected) go to this terminal
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.05)  # polling for the port to open, bounded by the deadline
    raise SystemExit(f"{binary} did not start")


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=15)


def lag_histogram(http_port):
    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=5) as reply:
        text = reply.read().decode()
    buckets = {}
    for le, value in re.findall(r'parley_event_loop_lag_seconds_bucket\{le="([^"]+)"\} (\d+)', text):
        buckets[float("inf") if le == "+Inf" else float(le)] = int(value)
    return buckets


def p99(before, after):
    """The upper bound of the bucket holding the 99th percentile of the observations
    between two scrapes."""
    bounds = sorted(after)
    growth = [after[b] - before.get(b, 0) for b in bounds]
    total = growth[-1]
    if total == 0:
        return None, 0
    for bound, cumulative in zip(bounds, growth):
        if cumulative >= 0.99 * total:
            return bound, total
    return float("inf"), total


def fanout(loadgen, port, transport, pid, msgs):
    args = [loadgen, "--proto", "parley", "--port", str(port), "--server-pid", str(pid)]
    if transport == "ws":
        args += ["--transport", "ws", "--ws-path", "/ws"]
    args += ["fanout", "--pubs", "1", "--subs", "10", "--size", "128", "--msgs", str(msgs)]
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["transport"] = transport
    return result


def rate(result):
    return result["delivered_msgs_s"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("loadgen")
    parser.add_argument("server")
    parser.add_argument("baseline", nargs="?")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--msgs", type=int, default=1000000)
    parser.add_argument("--out", default="ws_vs_tcp.jsonl")
    options = parser.parse_args()
    raw = open(options.out, "w")

    server = start(options.server, 7891, 7892)
    rates = {"tcp": [], "ws": []}
    lags = {"tcp": [], "ws": []}
    try:
        for run in range(options.runs):
            for transport in (("tcp", "ws") if run % 2 == 0 else ("ws", "tcp")):
                before = lag_histogram(7892)
                result = fanout(options.loadgen, 7891 if transport == "tcp" else 7892, transport,
                                server.pid, options.msgs)
                lag, samples = p99(before, lag_histogram(7892))
                result["loop_lag_p99_le_s"] = lag
                result["loop_lag_samples"] = samples
                raw.write(json.dumps(result) + "\n")
                rates[transport].append(rate(result))
                lags[transport].append(lag)
                print(f"same server, {transport}: {rate(result) / 1e6:.2f} M msgs/s, "
                      f"loop lag p99 <= {lag * 1e3:.2f} ms ({samples} samples)", flush=True)
    finally:
        stop(server)

    baseline_rates = []
    after_rates = []
    if options.baseline:
        for run in range(options.runs):
            order = ("before", "after") if run % 2 == 0 else ("after", "before")
            for which in order:
                binary = options.baseline if which == "before" else options.server
                proc = start(binary, 7893)
                try:
                    result = fanout(options.loadgen, 7893, "tcp", proc.pid, options.msgs)
                finally:
                    stop(proc)
                result["build"] = which
                raw.write(json.dumps(result) + "\n")
                (baseline_rates if which == "before" else after_rates).append(rate(result))
                print(f"tcp, {which}: {rate(result) / 1e6:.2f} M msgs/s", flush=True)

    def m(values):
        return statistics.median(values) / 1e6

    print()
    print("| fan-out 1 → 10, 128 B | runs (M delivered msgs/s) | median | ratio | loop lag p99 |")
    print("|---|---|---|---|---|")
    for transport in ("tcp", "ws"):
        runs = ", ".join(f"{r / 1e6:.2f}" for r in rates[transport])
        ratio = statistics.median(rates[transport]) / statistics.median(rates["tcp"])
        lag = max(lags[transport])
        print(f"| {transport}, same server | {runs} | {m(rates[transport]):.2f} M | {ratio:.2f}× | "
              f"≤ {lag * 1e3:g} ms (worst run) |")
    if baseline_rates:
        for name, values in (("tcp, before", baseline_rates), ("tcp, after", after_rates)):
            runs = ", ".join(f"{r / 1e6:.2f}" for r in values)
            ratio = statistics.median(values) / statistics.median(baseline_rates)
            print(f"| {name} | {runs} | {m(values):.2f} M | {ratio:.3f}× | |")


if __name__ == "__main__":
    main()
