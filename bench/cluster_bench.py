#!/usr/bin/python3
"""A 2-node cluster against one node and against Redis pub/sub alone, on this machine, in
one session: fan-out 1 -> 10 subscribers, 128 B, and latency at a fixed rate, the
configurations taking turns, fresh servers for every run. Prints the medians and the
pairwise ratios as Markdown and writes one JSON line per run.

  bench/cluster_bench.py PARLEY PARLEY_SERVER LOADGEN [--rounds 5] [--msgs 500000]
                         [--rate 20000] [--seconds 10] [--out FILE]

Configurations (each round runs all of them, in an order that rotates per round):
  single   one parley-server; `parley bench` (1 pub, 10 subs)
  cluster  two parley-servers on one Redis (`--cluster redis://...`); `parley bench
           --server A,B`: the publisher on A, subscribers alternating A, B, A, ...
  cluster_h0  the same with `--history 0` on both nodes (the publish script then skips
           the history list), to price history's share of Redis's work
  redis    redis-server alone; the shared load generator (`--proto redis`)
  loadgen  one parley-server driven by the shared load generator, so that the Redis row
           (measured by that tool) can be set against a Parley row measured the same way
Every redis-server runs with `--save '' --appendonly no`. Besides each tool's own figures,
every process's CPU over the whole run (set-up included) is read from /proc, and for
Redis the `INFO commandstats` growth (calls and microseconds per command).
"""
import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    # Bound and closed at once: another process could take it before the server does,
    # which on this otherwise idle loopback fails the start loudly rather than silently.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(proc, port, what):
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)  # polling for the port to open, bounded by the deadline
    raise SystemExit(f"{what} did not open port {port}")


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime, all threads


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


class Redis:
    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--loglevel", "warning"], stdout=subprocess.DEVNULL)
        wait_port(self.proc, self.port, "redis-server")

    def commandstats(self):
        out = subprocess.run(["redis-cli", "-p", str(self.port), "info", "commandstats"],
                             capture_output=True, text=True, check=True).stdout
        stats = {}
        for line in out.splitlines():
            if line.startswith("cmdstat_"):
                name, rest = line[len("cmdstat_"):].split(":", 1)
                values = dict(kv.split("=") for kv in rest.split(","))
                stats[name] = {"calls": int(values["calls"]), "usec": int(values["usec"])}
        return stats

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=15)


class Node:
    def __init__(self, binary, redis_port=None, extra=()):
        self.port = free_port()
        args = [binary, "--listen", f"127.0.0.1:{self.port}", "--http-listen", "off",
                "--log-level", "warn"]
        if redis_port:
            args += ["--cluster", f"redis://127.0.0.1:{redis_port}"]
        args += list(extra)
        self.proc = subprocess.Popen(args)  # warnings (none expected) go to this terminal
        wait_port(self.proc, self.port, "parley-server")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=15)


def stats_growth(before, after):
    out = {}
    for name, now in after.items():
        was = before.get(name, {"calls": 0, "usec": 0})
        calls = now["calls"] - was["calls"]
        if calls > 0:
            usec = now["usec"] - was["usec"]
            out[name] = {"calls": calls, "usec": usec, "usec_per_call": round(usec / calls, 3)}
    return out


def run_json(args):
    done = subprocess.run(args, capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    if not lines:
        raise SystemExit(f"no result from {' '.join(args)}: {done.stderr[-2000:]}")
    result = json.loads(lines[-1])
    result["exit_code"] = done.returncode
    return result


def bench_args(options, servers, workload):
    args = [options.parley, "--server", ",".join(f"127.0.0.1:{p}" for p in servers), "bench",
            "--pubs", "1", "--subs", "10", "--size", "128", "--json"]
    if workload == "fanout":
        args += ["--msgs", str(options.msgs)]
    else:
        args += ["--rate", str(options.rate), "--duration", str(options.seconds)]
    return args


def loadgen_args(options, proto, port, pid, workload):
    args = [options.loadgen, "--proto", proto, "--port", str(port), "--server-pid", str(pid)]
    if workload == "fanout":
        args += ["fanout", "--pubs", "1", "--subs", "10", "--size", "128", "--msgs",
                 str(options.msgs)]
    else:
        args += ["latency", "--rate", str(options.rate), "--seconds", str(options.seconds),
                 "--subs", "10", "--size", "128"]
    return args


def one_run(options, config, workload):
    """Starts the configuration's servers, runs one workload, stops them; the record."""
    redis = Redis() if config in ("cluster", "cluster_h0", "redis") else None
    nodes = []
    try:
        if config in ("cluster", "cluster_h0"):
            extra = ["--history", "0"] if config == "cluster_h0" else []
            nodes = [Node(options.server, redis.port, extra), Node(options.server, redis.port, extra)]
        elif config in ("single", "loadgen"):
            nodes = [Node(options.server)]
        pids = {f"node{'AB'[i]}": n.proc.pid for i, n in enumerate(nodes)}
        if redis:
            pids["redis"] = redis.proc.pid
        cpu_before = {name: cpu_s(pid) for name, pid in pids.items()}
        stats_before = redis.commandstats() if redis else {}
        load = loadavg()
        if config == "redis":
            args = loadgen_args(options, "redis", redis.port, redis.proc.pid, workload)
        elif config == "loadgen":
            args = loadgen_args(options, "parley", nodes[0].port, nodes[0].proc.pid, workload)
        else:
            args = bench_args(options, [n.port for n in nodes], workload)
        result = run_json(args)
        record = {
            "config": config, "workload": workload, "load": load, "load_after": loadavg(),
            "cpu_s": {name: round(cpu_s(pid) - cpu_before[name], 3) for name, pid in pids.items()},
            "redis_commandstats": stats_growth(stats_before, redis.commandstats()) if redis else None,
            "result": result,
        }
    finally:
        for node in nodes:
            node.stop()
        if redis:
            redis.stop()
    return record


def rate(record):
    # The load generator's latency workload reports no delivered rate (it is the fixed rate).
    return record["result"].get("delivered_msgs_s", 0)


def p(record, q):
    lat = record["result"]["latency_us"]
    return lat["p99"] if q == 99 else lat["p50"]


def clean(record):
    r = record["result"]
    return r.get("ok", False) and r.get("lost", 1) == 0 and record["result"]["exit_code"] == 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("parley")
    parser.add_argument("server")
    parser.add_argument("loadgen")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--msgs", type=int, default=500000)
    parser.add_argument("--rate", type=int, default=20000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--configs", default="single,cluster,redis,loadgen")
    parser.add_argument("--workloads", default="fanout,latency")
    parser.add_argument("--out", default="cluster.jsonl")
    options = parser.parse_args()
    configs = options.configs.split(",")
    records = []
    with open(options.out, "a") as raw:
        for rnd in range(options.rounds):
            order = configs[rnd % len(configs):] + configs[:rnd % len(configs)]
            for workload in options.workloads.split(","):
                for config in order:
                    record = one_run(options, config, workload)
                    record["round"] = rnd + 1
                    raw.write(json.dumps(record) + "\n")
                    raw.flush()
                    records.append(record)
                    r = record["result"]
                    print(f"round {rnd + 1} {workload:7} {config:8} load {record['load']}: "
                          f"{rate(record) / 1e6:.3f} M/s p50 {p(record, 50):.0f} "
                          f"p99 {p(record, 99):.0f} us lost {r.get('lost')} "
                          f"cpu {record['cpu_s']} {'ok' if clean(record) else 'NOT CLEAN'}",
                          flush=True)

    def pick(config, workload):
        return [r for r in records if r["config"] == config and r["workload"] == workload]

    print()
    print("| config | fan-out runs (M msgs/s) | median | vs single (pairwise median) | "
          "latency p50 / p99 µs (medians) | CPU s per fan-out run (median) |")
    print("|---|---|---|---|---|---|")
    single = pick("single", "fanout")
    for config in configs:
        fan = pick(config, "fanout")
        lat = pick(config, "latency")
        if not fan:
            continue
        ratios = [rate(a) / rate(b) for a, b in zip(fan, single)] if single else []
        cpu = {k: statistics.median(r["cpu_s"][k] for r in fan) for k in fan[0]["cpu_s"]}
        latency = (f"{statistics.median(p(r, 50) for r in lat):.0f} / "
                   f"{statistics.median(p(r, 99) for r in lat):.0f}") if lat else "—"
        print(f"| {config} | {', '.join(f'{rate(r) / 1e6:.2f}' for r in fan)} | "
              f"{statistics.median(rate(r) for r in fan) / 1e6:.2f} M | "
              f"{statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f}) | "
              f"{latency} | {cpu} |")


if __name__ == "__main__":
    main()
