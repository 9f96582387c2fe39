"""`dsim report` on traces with injected faults (faults_all.lua,
faults_edges.lua and the scenarios under scenarios/failures): every kind the
trace format documents is read, described in words and counted, and the
counts agree with what the test computes from the trace lines and with the
end line's "faults"."""
import collections
import csv
import glob
import io
import json
import os
import re
import unittest

from test_report_html import Page
from report_support import FAULTS_ALL, FAULTS_EDGES, ROOT, Causality, TraceCase, dsim, load

# the LINK FAULTS columns, and what each counts in the trace
LINK_COLUMNS = ["LOSS", "PART", "DOWN", "BIG", "RULE", "DUP", "CORR", "DELAY", "HELD"]
DROP_COLUMN = {"loss": "LOSS", "partition": "PART", "link_down": "DOWN", "too_big": "BIG", "rule": "RULE"}
EVENT_COLUMN = {"dup": "DUP", "corrupt": "CORR", "delay": "DELAY", "held": "HELD"}
END_NAME = {"LOSS": "loss", "PART": "partition", "DOWN": "link_down", "BIG": "too_big", "RULE": "rule_drop",
            "DUP": "duplicate", "CORR": "corrupt", "DELAY": "delay"}


def link_faults(events):
    """(src, dst) -> column -> count, for links with a fault."""
    out = collections.defaultdict(collections.Counter)
    for e in events:
        col = DROP_COLUMN.get(e.get("reason")) if e["ev"] == "drop" else EVENT_COLUMN.get(e["ev"])
        if col:
            out[(e["src"], e["dst"])][col] += 1
    return out


def section(text, title):
    """The lines of a text report's section, heading excluded."""
    lines = text.split("\n")
    start = next(i for i, l in enumerate(lines) if l.startswith(title + "  ") or l == title)
    body = []
    for l in lines[start + 1:]:
        if not l:
            break
        body.append(l)
    return body


def timeline(text):
    """(what, details) of each FAULTS AND NETWORK CHANGES entry."""
    rows = []
    for l in section(text, "FAULTS AND NETWORK CHANGES"):
        m = re.match(r"  (\S+)\s+(.{15})(.*)$", l)
        if m and re.match(r"[0-9.]+s$", m[1]):
            rows.append((m[2].strip(), m[3]))
    return rows


class TestReportFaults(TraceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.all = cls.make_trace(FAULTS_ALL, 1, "all.jsonl")
        cls.edges = cls.make_trace(FAULTS_EDGES, 3, "edges.jsonl")
        cls.traces = {"all": cls.all, "edges": cls.edges}
        cls.events = {k: load(p)[1:] for k, p in cls.traces.items()}

    def report(self, trace, *args):
        r = dsim("report", trace, *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        return r.stdout

    def page(self, trace, *args):
        out = self.path("page.html")
        self.report(trace, "--html", out, *args)
        with open(out, encoding="utf-8") as f:
            return Page(f.read())

    def each(self):
        return [(name, path, self.events[name]) for name, path in self.traces.items()]

    # ------------------------------------------------------------ every kind is known

    def test_the_traces_hold_every_fault_kind(self):
        kinds = {e["ev"] for ev in self.events.values() for e in ev}
        for k in ("pause", "resume", "clock", "stable", "stable_lost", "stable_torn", "delay", "held", "link_down",
                  "link_up", "hold", "release", "rule", "unrule", "nemesis_start", "nemesis", "nemesis_stop",
                  "corrupt", "dup", "partition", "heal", "crash", "restart"):
            self.assertIn(k, kinds)
        self.assertTrue(any(e["ev"] == "config" and "removed" in e for e in self.events["edges"]))
        self.assertTrue(any(e["ev"] == "nemesis" and e.get("skipped") for e in self.events["edges"]))

    def test_no_warning_no_placeholder_no_unknown_kind(self):
        for name, path, _ in self.each():
            text = self.report(path, "--all")
            self.assertNotIn("?", text)
            self.assertNotIn("does not know", text)
            self.assertNotIn("disagrees", text)
            for l in text.split("\n"):
                self.assertLessEqual(len(l), 80, l)
                self.assertNotIn("\033", l)

    def test_failure_scenarios_read_cleanly(self):
        for scenario in sorted(glob.glob(os.path.join(ROOT, "scenarios", "failures", "*.lua"))):
            name = os.path.basename(scenario)[:-4]
            with self.subTest(scenario=name):
                trace = self.make_trace(scenario, 1, name + ".jsonl")
                text = self.report(trace)
                self.assertNotIn("?", text)
                self.assertNotIn("does not know", text)
                self.assertNotIn("disagrees", text)
                self.report(trace, "--html", self.path(name + ".html"))
                for fmt in ("perfetto", "shiviz", "mermaid", "csv"):
                    self.report(trace, "--format", fmt, "-o", self.path(f"{name}.{fmt}"))
                r = dsim("diff", trace, trace)
                self.assertEqual((r.returncode, r.stderr), (0, ""))

    # ------------------------------------------------------------ the fault timeline

    def test_timeline_lists_each_fault_in_words(self):
        expected_what = {
            "pause": "pause", "resume": "resume", "clock": "clock", "stable_lost": "stable_lost",
            "stable_torn": "stable_torn", "crash": "crash", "restart": "restart",
            "link_down": "link_down #{id}", "link_up": "link_up #{id}", "hold": "hold #{id}",
            "release": "release #{id}", "partition": "partition #{id}", "heal": "heal #{id}",
            "rule": "net.rule #{id}", "unrule": "net.unrule #{id}", "nemesis_start": "nemesis #{id}",
            "nemesis": "nemesis #{id}", "nemesis_stop": "nemesis #{id}",
        }
        for name, path, events in self.each():
            rows = timeline(self.report(path, "--all"))
            whats = collections.Counter(w for w, _ in rows)
            want = collections.Counter()
            for e in events:
                if e["ev"] in expected_what:
                    want[expected_what[e["ev"]].format(id=e.get("id"))] += 1
                elif e["ev"] == "config" and "removed" in e:
                    want[f"net.unlink #{e['removed']}"] += 1
                elif e["ev"] == "config" and "link" in e:
                    want[f"net.link #{e['id']}"] += 1
            for what, n in want.items():
                self.assertEqual(whats[what], n, what)
            details = "\n".join(d for _, d in rows)
            for e in events:
                if e["ev"] == "release":
                    self.assertIn(f"{e['messages']} message", details)
                if e["ev"] == "clock":
                    self.assertRegex(details, rf"pid {e['pid']}: offset [-+]?[0-9.]+m?s, drift ")
                if e["ev"] == "nemesis" and not e.get("skipped"):
                    self.assertIn(f"chose {e['fault']}", details)
            self.assertRegex(details, r"pid \d+, paused for \d+ms \((scenario|nemesis)\)")
            self.assertRegex(details, r"\{[0-9, ]+\} (\||->) \{[0-9, ]+\}, down for \d+ms")

    def test_removed_rules_say_what_they_were(self):
        rows = dict(timeline(self.report(self.edges, "--all")))
        self.assertEqual(rows["net.unlink #1"], "link rule removed: 2 -> 1: delay 5ms (scenario)")
        self.assertEqual(rows["net.unrule #1"], 'message rule removed: 3 -> 1 "delay every 3rd"')
        self.assertTrue(rows["net.rule #2"].startswith("message rule added: any -> 2 "))

    def test_window_keeps_the_state_of_pauses_and_cuts(self):
        # the pause at 0.4s and the hold at 0.3s start before the window
        text = self.report(self.all, "--from", "0.42", "--to", "0.46")
        rows = timeline(text)
        self.assertIn(("resume", "pid 1, paused for 50ms (scenario)"), rows)
        page = self.page(self.all, "--from", "0.42", "--to", "0.46")
        self.assertEqual(page.count("main", "paused-band"), 1)

    # ------------------------------------------------------------ tables

    def test_link_faults_table_counts_the_trace(self):
        for name, path, events in self.each():
            body = section(self.report(path, "--all"), "LINK FAULTS")
            self.assertEqual(body[0].split(), ["LINK"] + LINK_COLUMNS)
            shown = {}
            for l in body[1:]:
                m = re.match(r"  (\d+)->(\d+) +([0-9 ]+)$", l)
                if m:
                    shown[(int(m[1]), int(m[2]))] = dict(zip(LINK_COLUMNS, map(int, m[3].split())))
            want = link_faults(events)
            self.assertEqual(set(shown), set(want))
            for link, cols in shown.items():
                self.assertEqual(cols, {c: want[link][c] for c in LINK_COLUMNS}, link)

    def test_end_line_faults_agree_with_the_table(self):
        for name, path, events in self.each():
            end = events[-1]
            self.assertIn("faults", end)
            want = link_faults(events)
            for col, key in END_NAME.items():
                self.assertEqual(sum(c[col] for c in want.values()), end["faults"].get(key, 0), key)
            held_by_hold = sum(1 for e in events if e["ev"] == "held" and e["reason"] == "hold")
            self.assertEqual(held_by_hold, end["faults"].get("hold", 0))
            self.assertNotIn("disagrees", self.report(path))
        # a trace whose end line miscounts is flagged
        lines = open(self.all, encoding="utf-8").read().split("\n")
        lines[-2] = lines[-2].replace('"loss":60', '"loss":61').replace('"fault_links":6', '"fault_links":5')
        self.assertNotEqual(lines[-2], open(self.all, encoding="utf-8").read().split("\n")[-2])
        bad = self.path("miscounted.jsonl")
        with open(bad, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        text = self.report(bad)
        self.assertIn("warning   the end line disagrees with the trace: faults.loss: 60 lines,\n"
                      "          end line says 61; fault_links: 6 links, end line says 5\n", text)

    def test_process_faults_table_counts_the_trace(self):
        for name, path, events in self.each():
            body = section(self.report(path, "--all"), "PROCESS FAULTS")
            self.assertEqual(body[0].split(), ["PID", "CRASH", "RESTART", "PAUSE", "PAUSED", "CLOCK", "LOST", "TORN"])
            want = collections.defaultdict(collections.Counter)
            for e in events:
                if e["ev"] in ("crash", "restart", "pause", "clock", "stable_lost", "stable_torn"):
                    want[e["pid"]][e["ev"]] += 1
            shown = {}
            for l in body[1:]:
                f = l.split()
                if f and f[0].isdigit():
                    shown[int(f[0])] = f[1:]
            self.assertEqual(set(shown), set(want))
            for pid, f in shown.items():
                w = want[pid]
                self.assertEqual([int(f[0]), int(f[1]), int(f[2]), int(f[4]), int(f[5]), int(f[6])],
                                 [w["crash"], w["restart"], w["pause"], w["clock"], w["stable_lost"],
                                  w["stable_torn"]], pid)

    def test_every_drop_reason_is_listed(self):
        for name, path, events in self.each():
            text = self.report(path)
            lines = text.split("\n")
            i = next(k for k, l in enumerate(lines) if "dropped by reason:" in l)
            joined = lines[i]
            while lines[i + 1].startswith("          ") and "duplicated" not in lines[i + 1]:
                i += 1
                joined += " " + lines[i].strip()
            reasons = collections.Counter(e["reason"] for e in events if e["ev"] == "drop")
            listed = dict((r, int(n)) for r, n in re.findall(r"(\w+) (\d+)", joined.split(":", 1)[1]))
            self.assertEqual(listed, dict(reasons))

    # ------------------------------------------------------------ html

    def test_html_marks_pauses_holds_and_delays(self):
        for name, path, events in self.each():
            page = self.page(path)
            n = collections.Counter(e["ev"] for e in events)
            self.assertEqual(page.count("main", "paused-band"), n["pause"])
            self.assertEqual(page.count("main", "linkdown"), n["link_down"])
            self.assertEqual(page.count("main", "holdcut"), n["hold"])
            held = {(e["mid"], e.get("copy", 0)) for e in events if e["ev"] == "held"}
            delayed = {(e["mid"], e.get("copy", 0)) for e in events if e["ev"] == "delay"}
            delivered = {(e["mid"], e.get("copy", 0)) for e in events if e["ev"] == "deliver"}
            self.assertEqual(page.count("main", "held-mark"), len(held & delivered))
            self.assertEqual(page.count("main", "delay-mark"), len(delayed & delivered))
            self.assertEqual(page.count("main", "held"), len(held & delivered))
            self.assertTrue(page.has_id("link-faults") and page.has_id("process-faults"))
            titles = "\n".join(page.text)
            if any(e["ev"] == "held" and e["reason"] == "hold" for e in events):
                self.assertRegex(titles, r"held by hold #\d+ \(from ")
            if any(e["ev"] == "held" and e["reason"] == "paused" for e in events):
                self.assertRegex(titles, r"held: pid \d+ was paused")
            if delayed:
                self.assertRegex(titles, r"extra delay \d+ms by rule #\d+")
            with open(self.path("page.html"), encoding="utf-8") as f:
                visible = re.sub(r"<(script|style)>.*?</\1>", "", f.read(), flags=re.S)
            self.assertNotIn("?", visible)

    # ------------------------------------------------------------ exports

    def test_csv_has_the_fault_columns(self):
        kinds = ("send", "dup", "drop", "deliver", "recv", "corrupt", "delay", "held")
        for name, path, events in self.each():
            rows = list(csv.DictReader(io.StringIO(self.report(path, "--format", "csv"), newline="")))
            self.assertEqual(list(rows[0].keys())[13:], ["cause", "rule", "cut", "extra_ns", "bits", "hold"])
            expected = [(i, e) for i, e in enumerate(events, start=2) if e["ev"] in kinds]
            self.assertEqual(len(rows), len(expected))
            for row, (line, e) in zip(rows, expected):
                self.assertEqual((int(row["line"]), row["event"]), (line, e["ev"]))
                if e["ev"] in ("recv", "deliver"):
                    self.assertEqual(row["cause"], "")
                else:
                    self.assertEqual(row["cause"], e.get("cause", ""), row)
                for col, key in (("rule", "rule"), ("cut", "cut"), ("extra_ns", "extra"), ("bits", "bits"),
                                 ("hold", "hold")):
                    self.assertEqual(row[col], str(e[key]) if key in e else "", (col, row))
                if e["ev"] == "held":
                    self.assertEqual(row["reason"], e["reason"])

    def test_perfetto_marks_pauses_held_and_delays(self):
        for name, path, events in self.each():
            doc = json.loads(self.report(path, "--format", "perfetto"))
            te = doc["traceEvents"]
            n = collections.Counter(e["ev"] for e in events)
            paused = [e for e in te if e["ph"] == "X" and e["name"] == "paused"]
            self.assertEqual(len(paused), n["pause"])
            for kind in ("held", "delay", "pause", "resume", "clock", "link_down", "hold", "nemesis"):
                self.assertEqual(sum(1 for e in te if e["ph"] == "i" and e["name"] == kind), n[kind], kind)
            for e in te:
                self.assertNotIn("?", json.dumps(e.get("args", {})), e)

    def test_mermaid_notes_pauses(self):
        for name, path, events in self.each():
            text = self.report(path, "--format", "mermaid", "--mermaid-limit", "100000")
            self.assertNotIn("?", text)
            pauses = [e for e in events if e["ev"] == "pause"]
            self.assertEqual(len(re.findall(r"Note over p\d+: pause pid \d+", text)), len(pauses))
            held = {(e["mid"], e.get("copy", 0)) for e in events if e["ev"] == "held"}
            delivered = {(e["mid"], e.get("copy", 0)) for e in events if e["ev"] == "deliver"}
            self.assertEqual(len(re.findall(r"\(held[:a-z ]*\)", text)), len(held & delivered))

    def test_shiviz_clocks_match(self):
        for name, path, events in self.each():
            text = self.report(path, "--format", "shiviz")
            body = [l for l in text.split("\n")[2:] if l]
            vc = Causality()
            for i, e in enumerate(events, start=2):
                vc.apply(e, i)
            self.assertEqual(len(body), len(vc.events))
            hosts = [l.split(" ", 1)[0] for l in body]
            self.assertEqual(hosts, ["scenario" if h == 0 else f"p{h}" for _, h, _ in vc.events])
            self.assertEqual(json.loads(re.match(r"\S+ (\{[^}]*\})", body[-1])[1]),
                             {("scenario" if h == 0 else f"p{h}"): v for h, v in vc.clock[vc.events[-1][1]].items()})

    def test_diff(self):
        other = self.make_trace(FAULTS_ALL, 2, "all2.jsonl")
        r = dsim("diff", self.all, self.all)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        r = dsim("diff", self.all, other)
        self.assertEqual((r.returncode, r.stderr), (1, ""))

    # ------------------------------------------------------------ bad input

    def test_bad_fault_lines_are_refused(self):
        lines = open(self.all, encoding="utf-8").read().split("\n")
        held = next(i for i, l in enumerate(lines) if '"ev":"held"' in l)
        nemesis = next(i for i, l in enumerate(lines) if '"ev":"nemesis"' in l)
        removed = next(i for i, l in enumerate(lines) if '"removed":' in l)
        cases = [
            ("held.jsonl", held, re.sub(r'"mid":\d+,', "", lines[held]), '"held" event: missing field "mid"'),
            ("nemesis.jsonl", nemesis, re.sub(r'"fault":"\w+",', "", lines[nemesis]),
             '"nemesis" event: missing field "fault"'),
            ("removed.jsonl", removed, re.sub(r'"removed":\d+', '"removed":"3"', lines[removed]),
             '"config" event: field "removed" must be a non-negative integer'),
        ]
        for fname, i, bad, what in cases:
            with self.subTest(case=fname):
                self.assertNotEqual(bad, lines[i])
                path = self.path(fname)
                with open(path, "w", encoding="utf-8") as f:
                    f.write("\n".join(lines[:i] + [bad] + lines[i + 1:]))
                for args in ([], ["--html", self.path(fname + ".html")], ["--format", "csv"]):
                    r = dsim("report", path, *args)
                    self.assertEqual(r.returncode, 2, r.stderr)
                    self.assertEqual(r.stderr.count("\n"), 1, r.stderr)
                    self.assertIn(f"{path}:{i + 1}: {what}", r.stderr)
                    self.assertNotIn("CRITICAL", r.stderr)
                r = dsim("diff", self.all, path)
                self.assertEqual(r.returncode, 2)
                self.assertIn(f"{path}:{i + 1}: {what}", r.stderr)


if __name__ == "__main__":
    unittest.main()
