"""`dsim diff TRACE_A TRACE_B`: same traces, two seeds, a run stopped early,
ignored fields, and the exit statuses."""
import unittest

from report_support import FAULTS, LOSSY, PLAIN, TraceCase, dsim, load


class TestDiff(TraceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a = cls.make_trace(LOSSY, 3, "a.jsonl")
        cls.a2 = cls.make_trace(LOSSY, 3, "a2.jsonl")
        cls.b = cls.make_trace(LOSSY, 4, "b.jsonl")
        cls.early = cls.make_trace(FAULTS, 4, "early.jsonl", "--until", "0.03")
        cls.full = cls.make_trace(FAULTS, 4, "full.jsonl")

    def test_same_run_twice(self):
        r = dsim("diff", self.a, self.a2)
        self.assertEqual(r.returncode, 0, r.stderr)
        n = len(load(self.a)) - 1
        self.assertIn("headers: the same\n", r.stdout)
        self.assertIn(f"events: the same {n} events (digest sha256:", r.stdout)

    def test_two_seeds(self):
        r = dsim("diff", self.a, self.b, "--context", "2")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("headers differ (1 field):", r.stdout)
        self.assertIn("  seed         3  vs  4\n", r.stdout)
        # the first event that differs, found independently
        ea, eb = load(self.a)[1:], load(self.b)[1:]
        k = next(i for i, (x, y) in enumerate(zip(ea, eb)) if x != y)
        self.assertIn(f"events: the first {k} are the same; event {k + 1} differs (A line {k + 2}, B line {k + 2},", r.stdout)
        before = r.stdout.split("before, in both:\n")[1].split("A:\n")[0].splitlines()
        self.assertEqual(len(before), min(2, k))
        self.assertIn(f"    line {k + 1} ", before[-1])
        after_a = r.stdout.split("A:\n")[1].split("B:\n")[0].splitlines()
        self.assertTrue(after_a[0].startswith(f"  > line {k + 2} "))
        self.assertEqual(len(after_a), 3)  # the diverging event and two more

    def test_stopped_early(self):
        r = dsim("diff", self.full, self.early, "--context", "1")
        self.assertEqual(r.returncode, 1)
        self.assertIn("  until        null  vs  30000000\n", r.stdout)
        self.assertIn("different kinds of event:", r.stdout)
        self.assertIn("  > line ", r.stdout)

    def test_ignore_fields(self):
        # same events, a different scenario path in the header
        copy = self.path("renamed.jsonl")
        with open(self.a, encoding="utf-8") as f, open(copy, "w", encoding="utf-8") as g:
            text = f.read()
            g.write(text.replace('"scenario":"scenarios/textbook/clientserver_lossy.lua"', '"scenario":"other.lua"', 1))
        r = dsim("diff", self.a, copy)
        self.assertEqual(r.returncode, 1)
        self.assertIn("  scenario     \"scenarios/textbook/clientserver_lossy.lua\"  vs  \"other.lua\"", r.stdout)
        r = dsim("diff", self.a, copy, "--ignore", "scenario")
        self.assertEqual(r.returncode, 0, r.stdout)
        # code locations: a different fn in every spawn
        moved = self.path("moved.jsonl")
        with open(moved, "w", encoding="utf-8") as g:
            g.write(text.replace("clientserver_lossy.lua:23", "clientserver_lossy.lua:24"))
        self.assertEqual(dsim("diff", self.a, moved).returncode, 1)
        self.assertEqual(dsim("diff", self.a, moved, "--ignore", "fn, scenario").returncode, 0)

    def test_usage_and_bad_input(self):
        r = dsim("diff", self.a)
        self.assertEqual(r.returncode, 2)
        self.assertIn("expected two TRACE files", r.stderr)
        r = dsim("diff", self.a, self.path("missing.jsonl"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("missing.jsonl", r.stderr)
        bad = self.path("bad.jsonl")
        with open(self.a, encoding="utf-8") as f, open(bad, "w", encoding="utf-8") as g:
            lines = f.readlines()
            lines[5] = "{nope\n"
            g.writelines(lines)
        r = dsim("diff", self.a, bad)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stdout, "")
        self.assertRegex(r.stderr, r"^dsim diff: .*bad\.jsonl:6: not valid JSON: column 2: .*\n$")
        r = dsim("diff", self.a, self.b, "--context", "-1")
        self.assertEqual(r.returncode, 2)
        r = dsim("diff", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--context", r.stdout)
        self.assertIn("--ignore", r.stdout)

    def test_plain_and_lossy_differ_from_the_start(self):
        plain = self.make_trace(PLAIN, 3, "plain.jsonl")
        r = dsim("diff", plain, self.a, "--context", "0")
        self.assertEqual(r.returncode, 1)
        self.assertIn("events: the first 0 are the same; event 1 differs", r.stdout)
        self.assertNotIn("before, in both", r.stdout)


if __name__ == "__main__":
    unittest.main()
