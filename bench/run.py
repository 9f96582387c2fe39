#!/usr/bin/env python3
"""Runs dsim's benchmarks side by side with the anchor implementations (the
bare C event loop and SimGrid 3.32 from ../shared/bench) on this machine,
and prints a Markdown table of medians and ratios.

usage (from the repository root, after building into build/):
  bench/run.py [--reps N] [--only SUBSTRING ...] [--anchors DIR] [--no-simgrid]
               [--raw FILE]

- Workloads are those of ../shared/bench/WORKLOADS.md at their full sizes:
  W1a/b/c ping-pong, W2 gossip (N=1e5, K=1e7), W3 client-server (C=1e4,
  R=100), plus idle-process memory at 1e5 processes.
- Every configuration runs --reps times (default 3); repetitions are
  interleaved across configurations so that slow phases of a shared machine
  spread over all of them. Each cell is the median.
- Traced runs write bench/trace.jsonl in the build directory; it is removed
  before each of them (outside the timing) and at the end.
- Wall time and peak RSS come from /usr/bin/time -v around the whole process.
  "loop" is the run loop alone, reported by the C programs themselves.
- Ratios: dsim C handlers vs the bare loop compare loop throughput (both
  measured the same way, inside the program); everything else compares
  whole-process wall throughput.

Needs: gcc, g++, /usr/bin/time; SimGrid from Debian's libsimgrid-dev (the
script builds ../shared/bench/simgrid/sg_bench.cpp with it).
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
OUT = os.path.join(BUILD, "bench", "anchors")

SG_COMMON = "--cfg=contexts/stack-size:16 --cfg=contexts/guard-size:0 --log=root.thres:critical --cfg=contexts/factory:raw"
SG_CONST = "--cfg=network/model:Constant --cfg=network/latency-factor:0.001"
SG_CM02 = ("--cfg=network/model:CM02 --cfg=network/loopback-lat:0.001 --cfg=network/loopback-bw:1e15 "
           "--cfg=network/TCP-gamma:1e18 --cfg=network/crosstraffic:0")

WORKLOADS = {
    # id: (label, c args, lua file and params, simgrid args, deliveries)
    "w1a": ("W1a ping-pong P=1 M=1e6", "w1 1 1000000", ("w1.lua", "-D P=1 -D M=1000000"),
            f"w1 1 1000000 blocking {SG_CONST}", 2_000_000),
    "w1b": ("W1b ping-pong P=1e3 M=1e3", "w1 1000 1000", ("w1.lua", "-D P=1000 -D M=1000"),
            f"w1 1000 1000 blocking {SG_CONST}", 2_000_000),
    "w1c": ("W1c ping-pong P=1e4 M=100", "w1 10000 100", ("w1.lua", "-D P=10000 -D M=100"),
            f"w1 10000 100 blocking {SG_CONST}", 2_000_000),
    "w2": ("W2 gossip N=1e5 K=1e7", "w2 100000 10000000", ("w2.lua", "-D N=100000 -D K=10000000"),
           f"w2 100000 10000000 blocking {SG_CM02}", 10_000_000),
    "w3": ("W3 client-server C=1e4 R=100", "w3 10000 100", ("w3.lua", "-D C=10000 -D R=100"),
           f"w3 10000 100 blocking {SG_CONST}", 2_000_000),
}


def configs(args):
    dsim = os.path.join(BUILD, "dsim")
    cb = os.path.join(BUILD, "bench", "dsim_bench")
    trace = os.path.join(BUILD, "bench", "trace.jsonl")
    lua = lambda f: os.path.join(ROOT, "bench", "lua", f)
    out = []
    for wid, (label, cargs, (lf, lp), sgargs, n) in WORKLOADS.items():
        out.append((f"bare-{wid}", wid, "bare C heap loop", f"{OUT}/des_baseline {cargs}", n))
        out.append((f"c-{wid}", wid, "dsim, C handlers", f"{cb} {cargs}", n))
        out.append((f"c-digest-{wid}", wid, "dsim, C handlers, digest", f"{cb} {cargs} --digest", n))
        out.append((f"c-trace-{wid}", wid, "dsim, C handlers, trace file", f"{cb} {cargs} --trace {trace}", n))
        out.append((f"lua-{wid}", wid, "dsim, Lua processes", f"{dsim} run {lua(lf)} {lp} -q --no-digest", n))
        out.append((f"lua-trace-{wid}", wid, "dsim, Lua processes, trace file",
                    f"{dsim} run {lua(lf)} {lp} -q --trace {trace}", n))
        if not args.no_simgrid:
            out.append((f"sg-{wid}", wid, "SimGrid 3.32 (raw contexts)", f"{OUT}/sg_bench {sgargs} {SG_COMMON}", n))
    # memory: near-empty runs and 1e5 idle processes
    out.append(("c-idle1", "mem", "dsim C, 1 idle process", f"{cb} idle 1 0", 0))
    out.append(("c-idle", "mem", "dsim C, 1e5 idle processes", f"{cb} idle 100000 0", 0))
    out.append(("lua-idle1", "mem", "dsim Lua, 1 idle process", f"{dsim} run {lua('idle.lua')} -D N=1 -q --no-digest", 0))
    out.append(("lua-idle", "mem", "dsim Lua, 1e5 idle processes",
                f"{dsim} run {lua('idle.lua')} -D N=100000 -q --no-digest", 0))
    if args.only:
        out = [c for c in out if any(o in c[0] for o in args.only)]
    return out


def build_anchors(anchors, simgrid):
    os.makedirs(OUT, exist_ok=True)
    subprocess.run(["gcc", "-O2", "-Wall", "-o", f"{OUT}/des_baseline",
                    os.path.join(anchors, "c_baseline", "des_baseline.c")], check=True)
    if simgrid:
        subprocess.run(["g++", "-O2", "-std=c++17", "-Wall", "-o", f"{OUT}/sg_bench",
                        os.path.join(anchors, "simgrid", "sg_bench.cpp"), "-lsimgrid"], check=True)


def run_once(cmd, trace):
    # Each traced run writes a new file: replacing the previous run's trace
    # (hundreds of MB) would add the freeing of its pages to the measurement.
    if "--trace" in cmd.split() and os.path.exists(trace):
        os.unlink(trace)
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd.split()], capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr[-2000:]}")
    rec = {}
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", proc.stderr)
    rec["wall"] = int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    rec["rss_kb"] = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    m = re.search(r"^RESULT (.*)$", proc.stdout, re.M)
    if m:
        kv = dict(p.split("=", 1) for p in m.group(1).split())
        rec["loop"] = float(kv["loop_s"])
        rec["delivered"] = int(kv["delivered"])
        rec["vend"] = float(kv["virtual_end"])
    return rec


def median(vals):
    return statistics.median(vals) if vals else None


def fmt_rate(x):
    if x is None:
        return "–"
    return f"{x / 1e6:.2f} M" if x >= 1e6 else f"{x / 1e3:.0f} k"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--anchors", default=os.path.join(os.path.dirname(ROOT), "shared", "bench"))
    ap.add_argument("--no-simgrid", action="store_true")
    ap.add_argument("--raw", help="append raw records (JSON lines) here")
    args = ap.parse_args()
    if not os.path.exists(os.path.join(BUILD, "dsim")):
        sys.exit("bench/run.py: build first (./dev.sh build)")
    if not args.no_simgrid and not shutil.which("g++"):
        sys.exit("bench/run.py: g++ not found (or use --no-simgrid)")
    build_anchors(args.anchors, not args.no_simgrid)
    cfgs = configs(args)
    trace = os.path.join(BUILD, "bench", "trace.jsonl")
    results = {c[0]: [] for c in cfgs}
    with open("/proc/cpuinfo") as f:
        cpu = re.search(r"model name\s*: (.*)", f.read()).group(1)
    print(f"machine: {cpu}, {os.cpu_count()} cores; {args.reps} reps, interleaved", file=sys.stderr)
    for rep in range(args.reps):
        for cid, *_rest in cfgs:
            cmd = next(c for c in cfgs if c[0] == cid)[3]
            rec = run_once(cmd, trace)
            results[cid].append(rec)
            print(f"  rep {rep + 1} {cid}: wall {rec['wall']:.2f}s rss {rec['rss_kb'] / 1024:.1f} MiB"
                  + (f" loop {rec['loop']:.3f}s" if "loop" in rec else ""), file=sys.stderr)
            if args.raw:
                with open(args.raw, "a") as f:
                    f.write(json.dumps({"id": cid, "rep": rep, **rec}) + "\n")

    if os.path.exists(trace):
        os.unlink(trace)

    def med(cid, key):
        return median([r[key] for r in results.get(cid, []) if key in r])

    print("| workload | system | wall s | msgs/s | loop msgs/s | peak RSS | vs bare loop | vs SimGrid |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for wid, (label, _c, _l, _s, n) in WORKLOADS.items():
        bare_loop = med(f"bare-{wid}", "loop")
        bare_wall = med(f"bare-{wid}", "wall")
        sg_wall = med(f"sg-{wid}", "wall")
        first = True
        for cid, w, system, _cmd, _n in cfgs:
            if w != wid or not results[cid]:
                continue
            wall, loop, rss = med(cid, "wall"), med(cid, "loop"), med(cid, "rss_kb")
            rate, lrate = n / wall, (n / loop if loop else None)
            if cid.startswith("c-") and bare_loop and loop:
                vs_bare = f"{bare_loop / loop:.2f}x"
            elif bare_wall and not cid.startswith("bare"):
                vs_bare = f"{bare_wall / wall:.2f}x"
            else:
                vs_bare = "–"
            vs_sg = f"{sg_wall / wall:.0f}x" if sg_wall and not cid.startswith(("sg", "bare")) else "–"
            print(f"| {label if first else ''} | {system} | {wall:.2f} | {fmt_rate(rate)} | {fmt_rate(lrate)} | "
                  f"{rss / 1024:.1f} MiB | {vs_bare} | {vs_sg} |")
            first = False
    # traced vs untraced
    print()
    print("| workload | C: digest / untraced | C: trace file / untraced | Lua: trace file / no digest |")
    print("|---|---:|---:|---:|")
    for wid, (label, *_x) in WORKLOADS.items():
        def ratio(a, b, key):
            x, y = med(a, key), med(b, key)
            return f"{x / y:.2f}x" if x and y else "–"
        print(f"| {label} | {ratio(f'c-digest-{wid}', f'c-{wid}', 'loop')} | "
              f"{ratio(f'c-trace-{wid}', f'c-{wid}', 'loop')} | {ratio(f'lua-trace-{wid}', f'lua-{wid}', 'wall')} |")
    # memory
    print()
    print("| processes | peak RSS, 1 process | peak RSS, 1e5 processes | marginal bytes/process |")
    print("|---|---:|---:|---:|")
    for kind, a, b in (("C handlers, idle", "c-idle1", "c-idle"), ("Lua, idle in recvFromAny", "lua-idle1", "lua-idle")):
        x, y = med(a, "rss_kb"), med(b, "rss_kb")
        if x and y:
            print(f"| {kind} | {x / 1024:.1f} MiB | {y / 1024:.1f} MiB | {(y - x) * 1024 / 1e5:.0f} |")


if __name__ == "__main__":
    main()
