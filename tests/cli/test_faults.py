"""Fault injection through `dsim run`: every fault is in the trace with its
cause and the message it touched, runs are reproducible across processes,
the summary counts faults per link, and bad fault arguments are scenario
errors (exit 2) that name the file, the line and the argument.

Environment (set by CTest): DSIM, the binary; DSIM_ROOT, the source tree.
"""
import collections
import json
import os
import subprocess
import tempfile
import unittest

DSIM = os.environ.get("DSIM", "dsim")
ROOT = os.environ.get("DSIM_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
HERE = os.path.dirname(os.path.abspath(__file__))
FAULTS_ALL = os.path.join(HERE, "data", "faults_all.lua")

CAUSES = {"config", "rule", "scenario", "nemesis"}


def run(*args, timeout=120):
    return subprocess.run([DSIM, "run", *args], capture_output=True, text=True, timeout=timeout)


def read_trace(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


class FaultTrace(unittest.TestCase):
    """One fault-heavy run, read back with json."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.trace_path = os.path.join(cls.tmp.name, "faults.jsonl")
        cls.proc = run(FAULTS_ALL, "--seed", "1", "--trace", cls.trace_path)
        cls.lines = read_trace(cls.trace_path)
        cls.header, cls.events = cls.lines[0], cls.lines[1:]

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def of(self, ev, **fields):
        return [e for e in self.events if e["ev"] == ev and all(e.get(k) == v for k, v in fields.items())]

    def test_run_succeeds(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        self.assertEqual(self.header["version"], 2)
        self.assertEqual(self.events[-1]["ev"], "end")

    def test_time_never_goes_back(self):
        times = [e["t"] for e in self.events]
        self.assertEqual(times, sorted(times))

    def test_every_fault_kind_is_traced(self):
        reasons = collections.Counter(e["reason"] for e in self.of("drop"))
        for reason in ("loss", "too_big", "rule", "partition", "link_down", "crashed"):
            self.assertGreater(reasons[reason], 0, f"no drop with reason {reason}")
        for ev in ("dup", "corrupt", "delay", "held", "partition", "heal", "link_down", "link_up", "hold",
                   "release", "rule", "crash", "restart", "pause", "resume", "clock", "stable_lost",
                   "stable_torn", "nemesis_start", "nemesis"):
            self.assertTrue(self.of(ev), f"no {ev} event")
        self.assertEqual({e["reason"] for e in self.of("held")}, {"hold", "paused"})
        chosen = {e["fault"] for e in self.of("nemesis") if not e.get("skipped")}
        self.assertEqual(chosen, {"partition", "crash", "pause", "loss", "link_down"})

    def test_message_faults_name_their_message_and_cause(self):
        sends = {e["mid"]: e for e in self.of("send")}
        injected = [e for e in self.events
                    if e["ev"] in ("dup", "corrupt", "delay") or (e["ev"] == "drop" and "cause" in e)
                    or (e["ev"] == "held" and e["reason"] == "hold")]
        self.assertGreater(len(injected), 100)
        for e in injected:
            self.assertIn(e["mid"], sends, e)
            send = sends[e["mid"]]
            self.assertEqual((e["src"], e["dst"]), (send["src"], send["dst"]), e)
            self.assertGreaterEqual(e["t"], send["t"])
            if e["ev"] != "held":
                self.assertIn(e["cause"], CAUSES, e)

    def test_causes_point_at_what_caused_them(self):
        rule_ids = {e["id"] for e in self.of("rule")}
        cut_ids = {e["id"] for e in self.of("partition") + self.of("link_down")}
        hold_ids = {e["id"] for e in self.of("hold")}
        for e in self.events:
            if e.get("cause") == "rule" and e["ev"] != "rule":
                self.assertIn(e["rule"], rule_ids, e)
            if e["ev"] == "drop" and e["reason"] in ("partition", "link_down"):
                self.assertIn(e["cut"], cut_ids, e)
            if e["ev"] == "held" and e["reason"] == "hold":
                self.assertIn(e["hold"], hold_ids, e)
        self.assertEqual({e["cause"] for e in self.of("drop", reason="loss")}, {"config"})
        self.assertEqual({e["cause"] for e in self.of("drop", reason="too_big")}, {"config"})
        self.assertEqual({e["cause"] for e in self.of("drop", reason="rule")}, {"rule"})
        self.assertEqual({e["cause"] for e in self.of("delay")}, {"rule"})
        self.assertTrue(self.of("corrupt", cause="rule") and self.of("corrupt", cause="config"))
        self.assertTrue(self.of("dup", cause="rule") and self.of("dup", cause="config"))

    def test_scenario_and_nemesis_faults_are_told_apart(self):
        for ev in ("partition", "crash", "pause", "link_down"):
            causes = {e["cause"] for e in self.of(ev)}
            self.assertEqual(causes, {"scenario", "nemesis"}, ev)
        # Each fault the nemesis chose is followed, at the same instant, by
        # the fault itself with cause "nemesis".
        kinds = {"partition": "partition", "crash": "crash", "pause": "pause", "loss": "config",
                 "link_down": "link_down"}
        for i, e in enumerate(self.events):
            if e["ev"] == "nemesis" and not e.get("skipped"):
                nxt = self.events[i + 1]
                self.assertEqual(nxt["ev"], kinds[e["fault"]], (e, nxt))
                self.assertEqual(nxt["cause"], "nemesis")
                self.assertEqual(nxt["t"], e["t"])

    def test_corrupted_copies_are_delivered_as_corrupted(self):
        corrupted = {(e["mid"], e.get("copy", 0)) for e in self.of("corrupt")}
        for e in self.of("deliver"):
            self.assertEqual(e.get("corrupted", False), (e["mid"], e.get("copy", 0)) in corrupted, e)

    def test_end_line_totals_match_the_events(self):
        end = self.events[-1]
        faults = end["faults"]
        self.assertEqual(faults["loss"], len(self.of("drop", reason="loss")))
        self.assertEqual(faults["too_big"], len(self.of("drop", reason="too_big")))
        self.assertEqual(faults["rule_drop"], len(self.of("drop", reason="rule")))
        self.assertEqual(faults["partition"], len(self.of("drop", reason="partition")))
        self.assertEqual(faults["link_down"], len(self.of("drop", reason="link_down")))
        self.assertEqual(faults["duplicate"], len(self.of("dup")))
        self.assertEqual(faults["corrupt"], len(self.of("corrupt")))
        self.assertEqual(faults["delay"], len(self.of("delay")))
        self.assertEqual(faults["hold"], len(self.of("held", reason="hold")))
        self.assertEqual(end["dropped"], len(self.of("drop")))
        self.assertEqual(end["duplicated"], len(self.of("dup")))

    def test_summary_counts_faults_per_link(self):
        out = self.proc.stdout
        self.assertRegex(out, r"faults    on \d+ links \(src->dst, most first\):")
        link_lines = [l for l in out.splitlines() if l.startswith("    ") and "->" in l]
        self.assertTrue(link_lines)
        # Per link, the summary's counts are those of the trace.
        per_link = collections.Counter()
        for e in self.of("drop", reason="loss"):
            per_link[(e["src"], e["dst"])] += 1
        for line in link_lines:
            name, _, rest = line.strip().partition(" ")
            src, dst = map(int, name.split("->"))
            counts = dict(item.strip().split(" ") for item in rest.split(","))
            self.assertEqual(int(counts.get("loss", 0)), per_link[(src, dst)], line)


class Reproducible(unittest.TestCase):
    def test_same_seed_same_trace_in_two_processes(self):
        with tempfile.TemporaryDirectory() as d:
            a, b, c = (os.path.join(d, n) for n in ("a.jsonl", "b.jsonl", "c.jsonl"))
            ra = run(FAULTS_ALL, "--seed", "7", "--trace", a)
            rb = run(FAULTS_ALL, "--seed", "7", "--trace", b)
            rc = run(FAULTS_ALL, "--seed", "8", "--trace", c)
            for r in (ra, rb, rc):
                self.assertEqual(r.returncode, 0, r.stderr)
            with open(a, "rb") as fa, open(b, "rb") as fb, open(c, "rb") as fc:
                ta, tb, tc = fa.read(), fb.read(), fc.read()
            self.assertEqual(ta, tb)
            self.assertNotEqual(ta, tc)
            digest = [l for l in ra.stdout.splitlines() if "digest" in l]
            self.assertEqual(digest, [l for l in rb.stdout.splitlines() if "digest" in l])

    def test_fault_free_runs_carry_no_fault_fields(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "t.jsonl")
            r = run(os.path.join(ROOT, "scenarios", "textbook", "clientserver.lua"), "--trace", path)
            self.assertEqual(r.returncode, 0, r.stderr)
            events = read_trace(path)[1:]
            self.assertFalse([e for e in events if "cause" in e])
            self.assertNotIn("faults", events[-1])
            self.assertNotIn("faults    on", r.stdout)


class Summary(unittest.TestCase):
    def test_what_the_network_still_holds_is_reported(self):
        code = ("local a = sim.spawn(function() local ch = channel.new(); ch:join('a'); ch:recvFromAny() end)\n"
                "sim.spawn(function() local ch = channel.new(); ch:join('b'); ch:sendTo(a, 1); ch:sendTo(a, 2) end)\n"
                "net.hold('b', 'a')\n")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "held.lua")
            with open(path, "w", encoding="utf-8") as f:
                f.write(code)
            r = run(path)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("held      2 messages still kept by the network", r.stdout)
            self.assertIn("hold 2", r.stdout)  # the per-link count


    def test_queued_messages_are_dropped_at_exit_and_crash(self):
        # a receiver waits, takes one message and returns (two still queued: 'exit');
        # another is crashed with two queued ('crash'); a later send to the
        # crashed one arrives after it stopped ('crashed').
        code = ("local function one() local ch = channel.new(); ch:join('r'); sim.sleep(0.2); ch:recvFromAny() end\n"
                "local a = sim.spawn(one)\n"
                "local b = sim.spawn(function() local ch = channel.new(); ch:join('r'); sim.sleep(1) end)\n"
                "sim.spawn(function() local ch = channel.new(); ch:join('s')\n"
                "  for i = 1, 3 do ch:sendTo(a, i) end\n"
                "  ch:sendTo(b, 1); ch:sendTo(b, 2)\n"
                "  sim.sleep(0.5); ch:sendTo(b, 3) end)\n"
                "sim.at(0.1, function() sim.crash(b) end)\n")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "queued.lua")
            trace = os.path.join(d, "t.jsonl")
            with open(path, "w", encoding="utf-8") as f:
                f.write(code)
            r = run(path, "--trace", trace)
            self.assertEqual(r.returncode, 0, r.stderr)
            drops = [(e["dst"], e["reason"]) for e in read_trace(trace)[1:] if e["ev"] == "drop"]
            self.assertEqual(collections.Counter(drops), {(1, "exit"): 2, (2, "crash"): 2, (2, "crashed"): 1})


class BadArguments(unittest.TestCase):
    """A bad fault argument is a scenario error: exit 2, one line naming the
    file, the line and the argument, never a crash."""

    CASES = [
        ("net.configure{ loss = -0.5 }", "net.configure: loss must be a probability between 0 and 1"),
        ("net.configure{ duplicate = 1.01 }", "net.configure: duplicate must be a probability"),
        ("net.configure{ corrupt = 'often' }", "net.configure: corrupt must be a number"),
        ("net.configure{ delay = {'weibull', '1ms', 2} }", "unknown delay distribution 'weibull'"),
        ("net.link(12, 'server', {loss = 0.1})", "net.link: from: pid 12 does not exist"),
        ("sim.spawn(function() channel.new():join('a') end)\nnet.partition('a', 'nobody')",
         "net.partition: the second set names subgroup 'nobody', which no process joined"),
        ("sim.nemesis{ stop = 1, interval = 1, faults = {{'crash', duration = -1}} }",
         "sim.nemesis: faults[1]: delay must not be negative"),
        ("sim.storage_faults{ torn = 2 }", "sim.storage_faults: torn must be a probability"),
        ("sim.nemesis{ stop = 1, interval = 0, faults = {{'pause', duration = 1}} }",
         "nemesis: interval must be at least 1us"),
    ]

    def test_each_bad_argument(self):
        with tempfile.TemporaryDirectory() as d:
            for code, needle in self.CASES:
                path = os.path.join(d, "bad.lua")
                with open(path, "w", encoding="utf-8") as f:
                    f.write(code + "\n")
                r = run(path, "-q")
                with self.subTest(code=code):
                    self.assertEqual(r.returncode, 2, r.stderr)
                    first = r.stderr.splitlines()[0]
                    self.assertIn(needle, first)
                    line = code.count("\n") + 1
                    self.assertIn(f"bad.lua:{line}:", first)


if __name__ == "__main__":
    unittest.main()
