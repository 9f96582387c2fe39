"""`dsim report TRACE --html OUT`: a self-contained page whose diagrams draw
what the trace says (counted by the test from the trace lines), including
the causal past of a failed check, computed here with vector clocks of the
test's own."""
import collections
import html.parser
import os
import re
import unittest

from report_support import FAULTS, LOSSY, Causality, TraceCase, dsim, load


class Page(html.parser.HTMLParser):
    """Every element, with its attributes and the id of the <svg> it is in."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.elements = []
        self.svg = []
        self.text = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg":
            self.svg.append(a.get("id", ""))
        self.elements.append((tag, a, self.svg[-1] if self.svg else None))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs), self.svg[-1] if self.svg else None))

    def handle_endtag(self, tag):
        if tag == "svg":
            self.svg.pop()

    def handle_data(self, data):
        self.text.append(data)

    def count(self, svg, cls):
        return sum(1 for _, a, s in self.elements if s == svg and cls in a.get("class", "").split())

    def labels(self, svg):
        return [a["data-pid"] for _, a, s in self.elements if s == svg and "proc-label" in a.get("class", "").split()]

    def has_id(self, ident):
        return any(a.get("id") == ident for _, a, _ in self.elements)


class TestHtml(TraceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.faults = cls.make_trace(FAULTS, 4, "faults.jsonl")
        cls.lossy = cls.make_trace(LOSSY, 3, "lossy.jsonl")

    def page(self, trace, *args, name="out.html"):
        out = self.path(name)
        r = dsim("report", trace, "--html", out, *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out, encoding="utf-8") as f:
            text = f.read()
        return text, Page(text)

    def test_self_contained(self):
        text, page = self.page(self.faults)
        self.assertTrue(text.startswith("<!DOCTYPE html>"))
        self.assertIn("Content-Security-Policy", text)
        for tag, a, _ in page.elements:
            self.assertNotIn(tag, ("link", "img", "iframe", "object", "embed"))
            for attr in ("src", "href"):
                if attr in a:
                    self.assertTrue(a[attr].startswith("#"), (tag, a))
        urls = set(re.findall(r"https?://[^\s\"'<>)]+", text))
        self.assertEqual(urls, {"http://www.w3.org/2000/svg"})  # the SVG namespace, not a download
        self.assertIn("data-errors", text)

    def test_diagram_draws_the_trace(self):
        events = load(self.faults)[1:]
        n = collections.Counter(e["ev"] for e in events)
        _, page = self.page(self.faults)
        self.assertEqual(page.count("main", "arrow"), n["deliver"])
        self.assertEqual(page.count("main", "dup"), sum(1 for e in events if e["ev"] == "deliver" and e.get("copy", 0))
                         + sum(1 for e in events if e["ev"] == "drop" and e.get("copy", 0)))
        self.assertEqual(page.count("main", "drop"), n["drop"])
        self.assertEqual(page.count("main", "crash"), n["crash"])
        self.assertEqual(page.count("main", "restart"), n["restart"])
        self.assertEqual(page.count("main", "partition"), n["partition"])
        self.assertEqual(page.count("main", "heal"), n["heal"])
        self.assertEqual(page.count("main", "timeout"), n["timeout"])
        self.assertEqual(page.count("main", "send"), n["send"])
        self.assertEqual(page.count("main", "failed"), sum(1 for e in events if e["ev"] == "check" and not e["ok"]))
        self.assertEqual(page.labels("main"), ["1", "2", "3", "4", "5", "6", "7"])
        # every mark has hover text
        self.assertGreaterEqual(sum(1 for tag, _, s in page.elements if s == "main" and tag == "title"),
                                n["deliver"] + n["drop"] + n["send"])
        # the charts, with labelled axes
        self.assertEqual(sum(1 for _, a, _ in page.elements if "chart" in a.get("class", "").split()), 2)
        text = "".join(page.text)
        for label in ("latency, send to delivery", "delivered copies", "virtual time", "messages per second"):
            self.assertIn(label, text)
        # the tables
        for section in ("processes", "links", "faults", "checks"):
            self.assertTrue(page.has_id(section), section)

    def test_causal_past_of_the_failed_check(self):
        events = load(self.faults)
        failed = next(i for i, e in enumerate(events) if e.get("ev") == "check" and not e["ok"] and e["pid"])
        target = events[failed]
        # vector clocks up to the failed check
        vc = Causality()
        delivered = []
        for i, e in enumerate(events[1:failed + 1], start=2):
            c = vc.apply(e, i)
            if e["ev"] == "deliver":
                sent = vc.sent.get((e["mid"], e.get("copy", 0)))
                delivered.append((e, c[e["dst"]], sent[e["src"]] if sent else None))
        clock = vc.clock[target["pid"]]
        in_past = [e for e, seq, send_seq in delivered
                   if seq <= clock.get(e["dst"], 0) and send_seq and send_seq <= clock.get(e["src"], 0)]
        _, page = self.page(self.faults)
        self.assertTrue(page.has_id("past"))
        self.assertEqual(page.count("past", "arrow"), len(in_past))
        self.assertLess(page.count("past", "arrow"), page.count("main", "arrow"))
        self.assertEqual(page.count("past", "target"), 1)
        # rows: only processes in the causal past (the bystander and the C pair
        # are not), and those where copies sent in it were lost
        send_seq = {}
        for e, (line, host, seq) in zip((events[l - 1] for l, _, _ in vc.events), vc.events):
            if e["ev"] == "send":
                send_seq[e["mid"]] = seq
        hosts = {h for h in clock if h}
        lost_at = {e["dst"] for e in events[1:failed + 1]
                   if e["ev"] == "drop" and send_seq.get(e["mid"], 1 << 62) <= clock.get(e["src"], 0)}
        self.assertEqual(page.labels("past"), [str(h) for h in sorted(hosts | lost_at)])
        self.assertNotIn("5", page.labels("past"))
        # partitions and heals before the check are kept as context
        before = collections.Counter(e["ev"] for e in events[1:failed + 1])
        self.assertEqual(page.count("past", "partition"), before["partition"])
        self.assertEqual(page.count("past", "heal"), before["heal"])
        self.assertGreater(before["partition"], 0)

    def test_corrupted_copies_are_marked(self):
        # no scenario corrupts messages yet: mark two deliveries as the
        # format's future "corrupted" flag would
        marked = self.path("corrupted.jsonl")
        with open(self.faults, encoding="utf-8") as f:
            lines = f.readlines()
        delivers = [i for i, l in enumerate(lines) if '"ev":"deliver"' in l][:2]
        for i in delivers:
            lines[i] = lines[i].rstrip("\n")[:-1] + ',"corrupted":true}\n'
        with open(marked, "w", encoding="utf-8") as f:
            f.writelines(lines)
        _, page = self.page(marked)
        self.assertEqual(page.count("main", "corrupt"), 2)
        self.assertEqual(page.count("main", "corrupt-mark"), 2)

    def test_scenario_check_failure_is_explained(self):
        # the textbook's checks run in sim.finally: stopping early fails them there
        trace = self.make_trace(LOSSY, 3, "early.jsonl", "--until", "0.02")
        text, page = self.page(trace)
        self.assertFalse(page.has_id("past"))
        self.assertIn("The first failed check ran in scenario code", text)

    def test_window_and_filter(self):
        events = load(self.faults)[1:]
        lo, hi = 10_000_000, 40_000_000
        _, page = self.page(self.faults, "--from", "10ms", "--to", "40ms")
        self.assertEqual(page.count("main", "arrow"),
                         sum(1 for e in events if e["ev"] == "deliver" and lo <= e["t"] <= hi))
        # a partition in force at the start of a window is drawn from its left edge
        _, page = self.page(self.faults, "--from", "20ms", "--to", "25ms")
        self.assertEqual(page.count("main", "partition"), 1)
        _, page = self.page(self.faults, "--pid", "3")
        self.assertEqual(page.count("main", "arrow"),
                         sum(1 for e in events if e["ev"] == "deliver" and 3 in (e["src"], e["dst"])))
        self.assertEqual(page.labels("main"), ["3", "others"])
        _, page = self.page(self.faults, "--group", "echo_server,echo_client")
        self.assertEqual(page.labels("main"), ["6", "7"])

    def test_diagram_limit(self):
        text, page = self.page(self.faults, "--diagram-limit", "40")
        self.assertIn("The diagram stops after 40 events", text)
        drawn = sum(page.count("main", c) for c in
                    ("arrow", "send", "recv", "drop", "crash", "restart", "spawn", "exit", "timeout", "log", "check",
                     "partition", "heal", "error"))
        self.assertLessEqual(drawn, 40)
        # the causal past is read again, so it is still complete up to its own limit
        self.assertTrue(page.has_id("past"))
        self.assertGreater(page.count("past", "arrow"), 0)

    def test_deterministic(self):
        a, _ = self.page(self.lossy, name="a.html")
        b, _ = self.page(self.lossy, name="b.html")
        self.assertEqual(a, b)

    def test_failed_html_leaves_no_file(self):
        bad = self.path("bad.jsonl")
        with open(self.lossy, encoding="utf-8") as f, open(bad, "w", encoding="utf-8") as g:
            g.write(f.read()[:-10])  # cut the last line
        out = self.path("never.html")
        r = dsim("report", bad, "--html", out)
        self.assertEqual(r.returncode, 2)
        self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    unittest.main()
