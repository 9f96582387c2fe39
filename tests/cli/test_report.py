"""`dsim report TRACE`: the terminal summary, checked against counts the test
makes itself from the trace lines."""
import collections
import os
import re
import unittest

from report_support import FAULTS, FORK, LOSSY, TraceCase, dsim, fmt_duration, load


def table(text, heading):
    """Rows (lists of cells) of the table under a heading line."""
    lines = text.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith(heading))
    rows = []
    for line in lines[start + 2:]:
        if not re.match(r"^ +\d+(->\d+)? ", line):
            break
        rows.append(line.split())
    return rows


def message_counts(events, pids=None):
    """Per-process and per-link counts, as the summary defines them."""
    kinds = {e["pid"]: e["kind"] for e in events if e["ev"] == "spawn"}
    proc = collections.defaultdict(collections.Counter)
    link = collections.defaultdict(collections.Counter)
    latency = collections.defaultdict(list)
    sent_at = {}
    for e in events:
        ev = e["ev"]
        if ev == "send":
            proc[e["src"]]["sent"] += 1
            link[(e["src"], e["dst"])]["sent"] += 1
            sent_at[e["mid"]] = e["t"]
        elif ev == "deliver":
            proc[e["dst"]]["deliv"] += 1
            if kinds.get(e["dst"]) == "c":
                proc[e["dst"]]["recv"] += 1
            link[(e["src"], e["dst"])]["deliv"] += 1
            latency[(e["src"], e["dst"])].append(e["t"] - sent_at[e["mid"]])
        elif ev == "recv":
            proc[e["pid"]]["recv"] += 1
        elif ev == "drop":
            proc[e["dst"]]["drop"] += 1
            link[(e["src"], e["dst"])]["drop"] += 1
        elif ev == "dup":
            link[(e["src"], e["dst"])]["dup"] += 1
        elif ev == "timeout":
            proc[e["pid"]]["tmout"] += 1
    return proc, link, latency


def nearest_rank(values, per_mille):
    s = sorted(values)
    rank = max(1, (len(s) * per_mille + 999) // 1000)
    return s[rank - 1]


class TestTextSummary(TraceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lossy = cls.make_trace(LOSSY, 3, "lossy.jsonl")
        cls.faults = cls.make_trace(FAULTS, 4, "faults.jsonl")
        cls.fork = cls.make_trace(FORK, 1, "fork.jsonl")

    def summary(self, *args):
        r = dsim("report", *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        return r.stdout

    def check_against_trace(self, trace):
        events = load(trace)[1:]
        out = self.summary(trace)
        for line in out.splitlines():
            self.assertLessEqual(len(line), 80, line)
        self.assertNotIn("\x1b", out)  # not a terminal: no colour
        n = collections.Counter(e["ev"] for e in events)
        self.assertIn(f"messages  {n['send']} sent, {n['deliver']} delivered, ", out)
        self.assertIn(f" received, {n['drop']} dropped\n", out)
        self.assertIn(f"{n['dup']} duplicated, 0 corrupted, {n['timeout']} receive timeouts", out)
        proc, link, latency = message_counts(events)
        end = events[-1]
        rows = table(out, "PROCESSES")
        spawned = {e["pid"] for e in events if e["ev"] == "spawn"}
        binds = [e for e in events if e["ev"] == "bind"]
        pids = sorted((spawned | {b["pid"] for b in binds}) - {b["from"] for b in binds})
        self.assertEqual([int(r[0]) for r in rows], pids)
        for r in rows:
            pid = int(r[0])
            c = proc[pid]
            self.assertEqual([int(x) for x in r[2:7]], [c["sent"], c["deliv"], c["recv"], c["drop"], c["tmout"]], r)
            if pid in end["blocked"]:
                self.assertEqual(r[7], "blocked")
        rows = table(out, "LINKS")
        self.assertEqual(len(rows), len(link))
        for r in rows:
            src, dst = map(int, r[0].split("->"))
            c = link[(src, dst)]
            self.assertEqual([int(x) for x in r[1:5]], [c["sent"], c["deliv"], c["drop"], c["dup"]], r)
            lat = latency[(src, dst)]
            if lat:  # few samples per link: the percentiles are exact
                self.assertEqual(r[6:9], [fmt_duration(nearest_rank(lat, 500)), fmt_duration(nearest_rank(lat, 990)),
                                          fmt_duration(max(lat))], r)
            else:
                self.assertEqual(r[6:9], ["-", "-", "-"])
        checks = [e for e in events if e["ev"] == "check"]
        passed = sum(1 for c in checks if c["ok"])
        self.assertIn(f"CHECKS  ({passed} passed, {len(checks) - passed} failed)", out)
        for c in checks:
            if not c["ok"]:
                self.assertIn(c["msg"], out)
        faults = [e for e in events if e["ev"] in ("crash", "restart", "partition", "heal", "config")]
        self.assertIn(f"FAULTS AND NETWORK CHANGES  ({len(faults)})", out)
        self.assertNotIn("warning", out)  # the end line agrees with the lines
        return out

    def test_lossy_textbook_run(self):
        out = self.check_against_trace(self.lossy)
        self.assertIn("scenario  scenarios/textbook/clientserver_lossy.lua\n", out)
        self.assertIn("seed      3 ", out)
        self.assertIn("network   delay uniform 1ms..5ms, loss 0.2, duplicate 0\n", out)

    def test_faults_run(self):
        out = self.check_against_trace(self.faults)
        self.assertRegex(out, r"\n  [0-9.]+s +crash +pid 2 \(scenario\)\n")
        self.assertRegex(out, r"\n  [0-9.]+s +partition #1 +\{server\} \| \{client\}\n")
        self.assertRegex(out, r"\n  [0-9.]+s +heal #1 +\{server\} \| \{client\}, cut for 18ms\n")

    def test_bound_pids_are_one_process(self):
        # clientserver_fork: pids 12..22 are spawned, then bind to 1..11
        out = self.check_against_trace(self.fork)
        self.assertIn("PROCESSES  (11)", out)

    def test_digest_is_the_runs(self):
        r = dsim("run", LOSSY, "--seed", "3", "--trace", self.path("again.jsonl"))
        digest = re.search(r"digest +sha256:([0-9a-f]{64})", r.stdout).group(1)
        self.assertIn(f"\ndigest    {digest}\n", self.summary(self.lossy))

    def test_deterministic(self):
        self.assertEqual(self.summary(self.faults), self.summary(self.faults))

    def test_colour(self):
        out = self.summary(self.faults, "--color", "always")
        self.assertIn("\x1b[31mFAIL\x1b[0m", out)
        self.assertNotIn("\x1b", self.summary(self.faults, "--color", "never"))
        r = dsim("report", self.faults, "--color", "sometimes")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--color expects auto, always or never", r.stderr)

    def test_filter_by_pid_and_group(self):
        out = self.summary(self.faults, "--pid", "2,3")
        self.assertEqual([r[0] for r in table(out, "PROCESSES")], ["2", "3"])
        self.assertTrue(all("2" in r[0].split("->") or "3" in r[0].split("->") for r in table(out, "LINKS")))
        out = self.summary(self.faults, "--group", "server,echo_server")
        self.assertEqual([r[0] for r in table(out, "PROCESSES")], ["1", "6"])
        for bad in ("x", "1,,2", "0"):
            r = dsim("report", self.faults, "--pid", bad)
            self.assertEqual(r.returncode, 2)
            self.assertIn("--pid expects pids", r.stderr)

    def test_window(self):
        events = load(self.faults)[1:]
        lo, hi = 10_000_000, 30_000_000
        inside = [e for e in events if lo <= e["t"] <= hi]
        out = self.summary(self.faults, "--from", "10ms", "--to", "0.03")
        n = collections.Counter(e["ev"] for e in inside)
        self.assertIn("window    0.01s .. 0.03s", out)
        self.assertIn(f"messages  {n['send']} sent, {n['deliver']} delivered, ", out)
        self.assertIn(f"events    {len(inside)} events shown", out)
        r = dsim("report", self.faults, "--from", "2s", "--to", "1s")
        self.assertEqual(r.returncode, 2)
        self.assertIn("the window is empty", r.stderr)
        r = dsim("report", self.faults, "--from", "soon")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--from", r.stderr)

    def test_output_file_and_help(self):
        out = self.path("summary.txt")
        r = dsim("report", self.faults, "-o", out)
        self.assertEqual((r.returncode, r.stdout), (0, ""))
        with open(out, encoding="utf-8") as f:
            self.assertEqual(f.read(), self.summary(self.faults))
        r = dsim("report", "--help")
        self.assertEqual(r.returncode, 0)
        for flag in ("--html", "--format", "--from", "--to", "--pid", "--group", "--output"):
            self.assertIn(flag, r.stdout)
        r = dsim("help")
        self.assertIn("report TRACE", r.stdout)
        self.assertIn("diff TRACE_A TRACE_B", r.stdout)
        r = dsim("report")
        self.assertEqual(r.returncode, 2)
        self.assertIn("expected a TRACE file", r.stderr)
        r = dsim("report", self.faults, "--html", self.path("x.html"), "--format", "csv")
        self.assertEqual(r.returncode, 2)

    def test_all_rows(self):
        # gossip-like traffic between many links: the busiest 40 by default
        big = self.make_trace("bench/reports/gossip.lua", 1, "gossip.jsonl", "--max-events", "20000")
        out = self.summary(big)
        self.assertRegex(out, r"\.\.\. \d+ more \(the busiest are shown; --all shows every row\)")
        links = len({(e["src"], e["dst"]) for e in load(big)[1:] if e["ev"] == "send"})
        self.assertEqual(len(table(self.summary(big, "--all"), "LINKS")), links)


if __name__ == "__main__":
    unittest.main()
