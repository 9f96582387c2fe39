"""Shared helpers for the `dsim report` / `dsim diff` tests (not a test module).

The tests run the real binary (DSIM) on traces made by the real binary from
scenarios under DSIM_ROOT, and check the outputs against what they compute
themselves from the trace lines: the reports are never their own oracle.
"""
import json
import os
import subprocess
import tempfile
import unittest

DSIM = os.environ["DSIM"]
ROOT = os.environ["DSIM_ROOT"]

FAULTS = "tests/cli/data/report_faults.lua"
FAULTS_ALL = "tests/cli/data/faults_all.lua"
FAULTS_EDGES = "tests/cli/data/faults_edges.lua"
LOSSY = "scenarios/textbook/clientserver_lossy.lua"
PLAIN = "scenarios/textbook/clientserver.lua"
FORK = "scenarios/textbook/clientserver_fork.lua"


def dsim(*args, cwd=None):
    """Runs dsim; the timeout only guards against a hang, it asserts nothing."""
    return subprocess.run([DSIM, *args], capture_output=True, text=True, cwd=cwd or ROOT, timeout=300)


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def fmt_duration(ns):
    """The reports' table format: 4 significant digits, trailing zeros dropped."""
    units = [(1, "ns"), (1000, "us"), (1000000, "ms"), (1000000000, "s")]
    u = 0
    while u + 1 < len(units) and ns >= units[u + 1][0]:
        u += 1
    while True:
        unit, suffix = units[u]
        digits = len(str(ns // unit))
        dec = 0 if unit == 1 or digits >= 4 else 4 - digits
        scale = 10 ** dec
        rounded = (ns * scale + unit // 2) // unit
        if dec > 0 and rounded >= 10000 and u + 1 < len(units):
            u += 1
            continue
        while dec > 0 and rounded % 10 == 0:
            rounded //= 10
            scale //= 10
            dec -= 1
        if dec == 0:
            return f"{rounded}{suffix}"
        return f"{rounded // scale}.{rounded % scale:0{dec}d}{suffix}"


class TraceCase(unittest.TestCase):
    """A test case with a temporary directory and a trace maker."""

    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory(prefix="dsim-report-test-")
        cls.dir = cls._tmp.name

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    @classmethod
    def make_trace(cls, scenario, seed, name, *extra):
        path = os.path.join(cls.dir, name)
        r = dsim("run", scenario, "--seed", str(seed), "--trace", path, "-q", *extra)
        if r.returncode not in (0, 1):
            raise AssertionError(f"dsim run {scenario} failed: {r.stderr}")
        return path

    def path(self, name):
        return os.path.join(self.dir, name)


class Causality:
    """Vector clocks computed from trace lines, independently of reports/:
    a process's events are ordered; a message orders its send before the
    recv that takes it (or its delivery to a C process); spawn follows the
    parent, bind follows the pid it replaces; pid 0 is scenario code."""

    def __init__(self):
        self.clock = {}  # host -> {host: n}
        self.kind = {}  # pid -> "lua"/"c"
        self.sent = {}  # (mid, copy) -> clock at the send
        self.events = []  # (line, host, own value) of every host event

    def _tick(self, host, merge=None):
        c = dict(self.clock.get(host, {}))
        for h, v in (merge or {}).items():
            c[h] = max(c.get(h, 0), v)
        c[host] = c.get(host, 0) + 1
        self.clock[host] = c
        return c

    def apply(self, e, line):
        ev = e["ev"]
        host, merge = None, None
        if ev == "spawn":
            self.kind[e["pid"]] = e["kind"]
            host = e["pid"]
            if e["parent"]:
                merge = self.clock.get(e["parent"])
        elif ev == "join":
            host = None if e.get("reserved") else e["pid"]
        elif ev == "bind":
            self.kind[e["pid"]] = self.kind.get(e["from"], "lua")
            host, merge = e["pid"], self.clock.get(e["from"])
        elif ev in ("exit", "crash", "restart", "error", "timeout", "log", "check", "pause", "resume", "clock",
                    "stable", "stable_lost", "stable_torn"):
            host = e["pid"]
        elif ev == "send":
            host = e["src"]
        elif ev == "dup":
            self.sent[(e["mid"], e.get("copy", 0))] = self.sent.get((e["mid"], 0))
        elif ev == "deliver":
            host = e["dst"]
            if self.kind.get(e["dst"]) == "c":
                merge = self.sent.get((e["mid"], e.get("copy", 0)))
        elif ev == "recv":
            host, merge = e["pid"], self.sent.get((e["mid"], e.get("copy", 0)))
        elif ev in ("config", "partition", "heal", "link_down", "link_up", "hold", "release", "rule", "unrule",
                    "nemesis_start", "nemesis", "nemesis_stop"):
            host = 0
        if host is None:
            return None
        c = self._tick(host, merge)
        if ev == "send":
            self.sent[(e["mid"], 0)] = dict(c)
        self.events.append((line, host, c[host]))
        return c
