"""The interprocess-communication labs (scenarios/labs/) and their modules
(scenarios/lib/), run through the real binary.

- every reference scenario passes its checks (exit 0) for seeds 1..200;
- every naive variant fails, for a seed in a fixed list, with the check it
  is meant to fail (matched on the "FAIL check failed: ..." line);
- the Lua unit tests of the modules (tests/lua/test_*.lua) pass;
- a lab run twice with the same seed gives the same digest;
- the labs print the measurements their handouts promise.

Environment: DSIM (the binary), DSIM_ROOT (the source tree). Runs use at
most two processes at a time. Every failure names the replay command.
"""

import concurrent.futures
import os
import re
import subprocess
import unittest

DSIM = os.environ.get("DSIM", "dsim")
ROOT = os.environ.get("DSIM_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
LABS = os.path.join(ROOT, "scenarios", "labs")
LIB = os.path.join(ROOT, "scenarios", "lib")
WORKERS = 2
SEEDS = range(1, 201)

# Reference scenarios: each must pass for every seed in SEEDS.
REFERENCE = [
    "udp/sockets.lua",
    "udp/failures.lua",
    "udp/echo.lua",
    "cdr/person.lua",
    "request-reply/rr.lua",
    "request-reply/protocols.lua",
    "stream/transfer.lua",
    "stream/broken.lua",
    "stream/goodput.lua",
    "http/persistent.lua",
    "group/reliable.lua",
    "group/fifo.lua",
    "group/causal.lua",
    "group/total.lua",
]

# Naive variants: the check each must fail, and the seeds to try (in order;
# the first seed that exits 1 must fail that check).
NAIVE_SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
NAIVE = {
    "udp/naive_echo.lua": "udp echo: every client got its reply",
    "cdr/naive_byteorder.lua": "cdr: every record received decodes to the value sent",
    "request-reply/naive_no_filter.lua": "at-most-once (RR without duplicate filtering)",
    "request-reply/naive_no_history.lua": "every client gets its reply (RR without a reply history)",
    "stream/naive_stream.lua": "stream intact",
    "http/naive_udp.lua": "http: every request got its response",
    "group/naive_basic.lua": "agreement:",
    "group/naive_causal.lua": "causal order:",
    "group/naive_total.lua": "total order:",
}

# Files in the lab directories that are modules required by the scenarios.
MODULES = {
    "udp/figures.lua",
    "cdr/people.lua",
    "request-reply/bank.lua",
    "http/site.lua",
    "group/workloads.lua",
}

LUA_TESTS = {  # unit test scenario -> fewest checks it must make
    "test_cdr.lua": 500,
    "test_checkers.lua": 25,
    "test_http.lua": 40,
}


def run(path, seed, quiet=True, extra=()):
    cmd = [DSIM, "run", path, "--seed", str(seed), "--lib", LIB]
    if quiet:
        cmd.append("-q")
    cmd.extend(extra)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def first_line(text):
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


class LabFiles(unittest.TestCase):
    def test_every_lab_scenario_is_tested(self):
        found = set()
        for lab in sorted(os.listdir(LABS)):
            d = os.path.join(LABS, lab)
            if os.path.isdir(d):
                self.assertTrue(os.path.isfile(os.path.join(d, "README.md")), f"{lab} has no README.md")
                for f in os.listdir(d):
                    if f.endswith(".lua"):
                        found.add(f"{lab}/{f}")
        listed = set(REFERENCE) | set(NAIVE) | MODULES
        self.assertEqual(found - listed, set(), "lab scenarios no test runs")
        self.assertEqual(listed - found, set(), "tested scenarios that do not exist")
        self.assertTrue(os.path.isfile(os.path.join(LABS, "README.md")), "scenarios/labs/README.md missing")
        self.assertTrue(os.path.isfile(os.path.join(LIB, "README.md")), "scenarios/lib/README.md missing")


class LabReferences(unittest.TestCase):
    """Each reference scenario passes for 200 seeds."""

    def sweep(self, rel):
        path = os.path.join(LABS, rel)
        failures = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as pool:
            results = pool.map(lambda s: (s, run(path, s)), SEEDS)
            for seed, (rc, out, err) in results:
                if rc != 0:
                    failures.append(f"seed {seed}: exit {rc}: {first_line(err)}\n"
                                    f"  replay: {DSIM} run {path} --seed {seed}")
        self.assertEqual(failures, [], f"{rel} failed for {len(failures)} of {len(SEEDS)} seeds:\n"
                         + "\n".join(failures[:5]))


def _make_reference_test(rel):
    def test(self):
        self.sweep(rel)
    return test


for _rel in REFERENCE:
    _name = "test_" + re.sub(r"[^a-z0-9]+", "_", _rel[:-4])
    setattr(LabReferences, _name, _make_reference_test(_rel))


class LabNaiveVariants(unittest.TestCase):
    """Each naive variant fails its intended check under faults."""

    def check_naive(self, rel, expected):
        path = os.path.join(LABS, rel)
        tried = []
        for seed in NAIVE_SEEDS:
            rc, out, err = run(path, seed)
            self.assertIn(rc, (0, 1), f"{rel} seed {seed}: scenario error (exit {rc}): {first_line(err)}")
            tried.append(seed)
            if rc == 1:
                fail = [l for l in err.splitlines() if l.startswith("FAIL ")]
                self.assertTrue(fail, f"{rel} seed {seed}: exit 1 without a FAIL line:\n{err}")
                self.assertTrue(fail[0].startswith("FAIL check failed: " + expected),
                                f"{rel} seed {seed} failed another check than '{expected}':\n{fail[0]}\n"
                                f"  replay: {DSIM} run {path} --seed {seed}")
                return
        self.fail(f"{rel} passed for every seed in {tried}: the naive variant is not caught")


def _make_naive_test(rel, expected):
    def test(self):
        self.check_naive(rel, expected)
    return test


for _rel, _expected in NAIVE.items():
    _name = "test_" + re.sub(r"[^a-z0-9]+", "_", _rel[:-4])
    setattr(LabNaiveVariants, _name, _make_naive_test(_rel, _expected))


class LabModuleUnitTests(unittest.TestCase):
    """The modules' Lua unit tests (tests/lua/test_*.lua) pass."""

    def test_lua_unit_tests(self):
        for name, minimum in LUA_TESTS.items():
            path = os.path.join(ROOT, "tests", "lua", name)
            with self.subTest(test=name):
                rc, out, err = run(path, 1, quiet=False)
                self.assertEqual(rc, 0, f"{name} failed:\n{err}\n  replay: {DSIM} run {path} --seed 1")
                m = re.search(r"checks\s+(\d+) passed, (\d+) failed", out)
                self.assertIsNotNone(m, f"{name}: no checks summary in:\n{out}")
                self.assertGreaterEqual(int(m.group(1)), minimum, f"{name} made too few checks")
                self.assertEqual(int(m.group(2)), 0)

    def test_cdr_figure9_layout_is_printed(self):
        rc, out, err = run(os.path.join(LABS, "cdr", "person.lua"), 1, quiet=False)
        self.assertEqual(rc, 0, err)
        # Figure 9, big-endian: 5 | "Smit" | "h___" | 6 | "Lond" | "on__" | 1934
        for row in ("0-3    00 00 00 05", "4-7    53 6d 69 74", "8-11   68 00 00 00", "12-15   00 00 00 06",
                    "16-19   4c 6f 6e 64", "20-23   6f 6e 00 00", "24-27   00 00 07 8e"):
            self.assertIn(row, out)


class LabDeterminism(unittest.TestCase):
    def digest(self, rel, seed):
        rc, out, err = run(os.path.join(LABS, rel), seed, quiet=False)
        self.assertEqual(rc, 0, err)
        m = re.search(r"digest\s+sha256:([0-9a-f]{64})", out)
        self.assertIsNotNone(m, out)
        return m.group(1)

    def test_same_seed_same_digest(self):
        for rel in ("http/persistent.lua", "group/causal.lua", "request-reply/rr.lua"):
            with self.subTest(lab=rel):
                a, b = self.digest(rel, 17), self.digest(rel, 17)
                self.assertEqual(a, b, f"{rel}: two runs with seed 17 differ")
                self.assertNotEqual(a, self.digest(rel, 18), f"{rel}: seeds 17 and 18 give the same run")


class LabMeasurements(unittest.TestCase):
    """The measurements the handouts describe are printed, and sensible."""

    def test_goodput_table(self):
        rc, out, err = run(os.path.join(LABS, "stream", "goodput.lua"), 1, quiet=False)
        self.assertEqual(rc, 0, err)
        rows = re.findall(r"\]\s+(\d\.\d\d)\s+([\d.]+)\s+([\d.]+)\s+(\d+)\s+(\d+)\s+(\d+)%", out)
        self.assertEqual([r[0] for r in rows], ["0.00", "0.05", "0.10", "0.20", "0.30", "0.40"], out)
        goodput = [float(r[2]) for r in rows]
        self.assertTrue(all(g > 0 for g in goodput))
        self.assertGreater(goodput[0], goodput[-1], "goodput without loss should beat goodput at 40% loss")

    def test_rr_versus_rra_history(self):
        rc, out, err = run(os.path.join(LABS, "request-reply", "protocols.lua"), 1, quiet=False)
        self.assertEqual(rc, 0, err)
        rows = {m.group(1): m.groups() for m in re.finditer(
            r"\]\s+(R|RR|RR-last|RRA)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)", out)}
        self.assertEqual(set(rows), {"R", "RR", "RR-last", "RRA"}, out)
        peak = {k: int(v[8]) for k, v in rows.items()}
        self.assertEqual(peak["R"], 0, "R keeps no history")
        self.assertLess(peak["RRA"], peak["RR"], "RRA's history peak below RR's")
        self.assertGreater(int(rows["RRA"][7]), 0, "RRA acknowledgements arrive")


if __name__ == "__main__":
    unittest.main()
