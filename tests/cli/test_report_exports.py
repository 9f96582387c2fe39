"""`dsim report TRACE --format perfetto|shiviz|mermaid|csv`: each export is
parsed back and checked against the trace lines."""
import collections
import csv
import io
import json
import re
import unittest

from report_support import FAULTS, FORK, LOSSY, Causality, TraceCase, dsim, load


class TestExports(TraceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.faults = cls.make_trace(FAULTS, 4, "faults.jsonl")
        cls.lossy = cls.make_trace(LOSSY, 3, "lossy.jsonl")
        cls.fork = cls.make_trace(FORK, 2, "fork.jsonl")

    def export(self, trace, fmt, *args):
        out = self.path(f"out.{fmt}")
        r = dsim("report", trace, "--format", fmt, "-o", out, *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out, encoding="utf-8", newline="") as f:
            text = f.read()
        again = dsim("report", trace, "--format", fmt, *args)  # to stdout, and deterministic
        self.assertEqual(again.stdout, text.replace("\r\n", "\n") if fmt == "csv" else text)
        return text

    # ------------------------------------------------------------ perfetto

    def test_perfetto(self):
        events = load(self.faults)[1:]
        doc = json.loads(self.export(self.faults, "perfetto"))
        self.assertEqual(doc["displayTimeUnit"], "ns")
        te = doc["traceEvents"]
        for e in te:
            self.assertIn(e["ph"], ("X", "i", "s", "f", "M"))
            self.assertEqual(e["pid"], 1)
            self.assertIsInstance(e["tid"], int)
            self.assertIsInstance(e["ts"], (int, float))
        n = collections.Counter(e["ev"] for e in events)
        slices = [e for e in te if e["ph"] == "X" and e["cat"] == "msg"]
        self.assertEqual(sum(1 for e in slices if e["name"].startswith("send ")), n["send"])
        self.assertEqual(sum(1 for e in slices if e["name"].startswith("deliver ")), n["deliver"])
        # one flow arrow per delivered copy, from a send slice to a delivery slice
        starts = {e["id"]: e for e in te if e["ph"] == "s"}
        ends = {e["id"]: e for e in te if e["ph"] == "f"}
        self.assertEqual(len(starts), n["deliver"])
        self.assertEqual(set(starts), set(ends))
        at = {(e["tid"], e["ts"]) for e in slices}
        for i, s in starts.items():
            self.assertIn((s["tid"], s["ts"]), at)  # binds to the send slice
            self.assertIn((ends[i]["tid"], ends[i]["ts"]), at)
            self.assertEqual(ends[i]["bp"], "e")
        # exact times: ts is microseconds with nanosecond decimals
        first_send = next(e for e in events if e["ev"] == "send")
        self.assertEqual(min(e["ts"] for e in slices if e["name"].startswith("send ")), first_send["t"] / 1000)
        crashed = [e for e in te if e["ph"] == "X" and e["name"] == "crashed"]
        self.assertEqual(len(crashed), n["crash"])
        crash = next(e for e in events if e["ev"] == "crash")
        restart = next(e for e in events if e["ev"] == "restart")
        self.assertAlmostEqual(crashed[0]["dur"], (restart["t"] - crash["t"]) / 1000)
        names = {e["tid"]: e["args"]["name"] for e in te if e["ph"] == "M" and e["name"] == "thread_name"}
        self.assertEqual(names[1], "1 server")
        self.assertEqual(names[6], "6 echo_server")
        self.assertEqual(names[0], "scenario code")

    # ------------------------------------------------------------ shiviz

    def check_shiviz(self, text, trace):
        lines = text.split("\n")
        regex = lines[0]
        self.assertEqual(lines[1], "")  # one execution: an empty delimiter line
        self.assertTrue(all(g in regex for g in ("(?<host>", "(?<clock>", "(?<event>")))
        pattern = re.compile(regex.replace("(?<", "(?P<"))
        body = [l for l in lines[2:] if l]
        counts = collections.Counter()
        last = {}
        parsed = []
        for line in body:
            m = pattern.fullmatch(line)
            self.assertIsNotNone(m, line)
            host, clock = m["host"], json.loads(m["clock"])
            self.assertIn(host, clock)  # ShiViz: the local host is in its clock
            counts[host] += 1
            self.assertEqual(clock[host], counts[host], line)  # starts at 1, steps by 1
            for h, v in last.get(host, {}).items():
                self.assertGreaterEqual(clock.get(h, 0), v, line)  # clocks never go back
            self.assertTrue(all(v > 0 for v in clock.values()))
            last[host] = clock
            parsed.append((host, clock, m["event"]))
        for host, clock, _ in parsed:  # every entry names a host with that many events
            for h, v in clock.items():
                self.assertLessEqual(v, counts[h], (host, clock))
        # the same clocks as the test's own vector clocks
        vc = Causality()
        for i, e in enumerate(load(trace)[1:], start=2):
            vc.apply(e, i)
        name = lambda pid: "scenario" if pid == 0 else f"p{pid}"
        self.assertEqual(len(parsed), len(vc.events))
        for (host, clock, _), (line, pid, _) in zip(parsed, vc.events):
            self.assertEqual(host, name(pid))
        self.assertEqual(parsed[-1][1], {name(h): v for h, v in vc.clock[vc.events[-1][1]].items()})
        return parsed

    def test_shiviz(self):
        parsed = self.check_shiviz(self.export(self.faults, "shiviz"), self.faults)
        # a receive knows its send: "recv #3.0 ..." after "send #3 ..." on another host
        send_clock = {}
        for host, clock, event in parsed:
            m = re.search(r" send #(\d+) ", event)
            if m:
                send_clock[m[1]] = (host, clock)
            m = re.search(r" recv #(\d+)\.\d+ ", event)
            if m:
                sh, sc = send_clock[m[1]]
                self.assertGreaterEqual(clock.get(sh, 0), sc[sh])

    def test_shiviz_bind(self):
        self.check_shiviz(self.export(self.fork, "shiviz"), self.fork)

    def test_shiviz_filtered(self):
        text = self.export(self.faults, "shiviz", "--pid", "6,7")
        hosts = {l.split(" ")[0] for l in text.split("\n")[2:] if l}
        self.assertEqual(hosts, {"p6", "p7", "scenario"})
        for line in text.split("\n")[2:]:
            if line:
                clock = json.loads(re.match(r"\S+ (\{[^}]*\})", line)[1])
                self.assertTrue(set(clock) <= {"p6", "p7", "scenario"})

    # ------------------------------------------------------------ mermaid

    def test_mermaid(self):
        events = load(self.faults)[1:]
        text = self.export(self.faults, "mermaid")
        lines = text.rstrip("\n").split("\n")
        self.assertEqual(lines[0], "sequenceDiagram")
        participants = []
        arrows = 0
        for line in lines[1:]:
            if line.startswith("    participant "):
                m = re.fullmatch(r"    participant p(\d+) as \d+( [^;#\n]*)?", line)
                self.assertIsNotNone(m, line)
                participants.append(int(m[1]))
                continue
            m = re.fullmatch(r"    p(\d+)(->>|-->>|-x|--x)p(\d+): (.+)", line)
            if m:
                arrows += 1
                self.assertIn(int(m[1]), participants)
                self.assertIn(int(m[3]), participants)
                text_part = m[4]
            else:
                m = re.fullmatch(r"    Note over p\d+(,p\d+)?: (.+)", line)
                self.assertIsNotNone(m, line)
                text_part = m[2]
            # ';' and '#' only inside Mermaid's entity codes (#59; and the like)
            self.assertNotIn(";", re.sub(r"#\d+;", "", text_part))
            self.assertNotIn("#", re.sub(r"#\d+;", "", text_part))
        self.assertEqual(participants, sorted(participants))
        n = collections.Counter(e["ev"] for e in events)
        self.assertEqual(arrows, n["deliver"] + n["drop"])
        self.assertEqual(sum(1 for l in lines if "-x" in l and "--x" not in l),
                         sum(1 for e in events if e["ev"] == "drop" and e.get("copy", 0) == 0))
        self.assertIn("Note over p2: crash", text)

    def test_mermaid_limit(self):
        text = self.export(self.faults, "mermaid", "--mermaid-limit", "5")
        arrows = [l for l in text.split("\n") if re.match(r"    p\d+(->>|-->>|-x|--x)p\d+: ", l)]
        self.assertEqual(len(arrows), 5)
        self.assertRegex(text, r"Note over p\d+: \d+ more messages not drawn \(the limit is 5")

    # ------------------------------------------------------------ csv

    def test_csv(self):
        events = load(self.faults)
        text = self.export(self.faults, "csv")
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        self.assertEqual(list(rows[0].keys()), ["line", "t_ns", "event", "mid", "copy", "src", "dst", "size",
                                                "latency_ns", "corrupted", "reason", "channel", "data",
                                                "cause", "rule", "cut", "extra_ns", "bits", "hold"])
        kinds = ("send", "dup", "drop", "deliver", "recv", "corrupt", "delay", "held")
        expected = [(i, e) for i, e in enumerate(events, start=1) if e.get("ev") in kinds]
        self.assertEqual(len(rows), len(expected))
        sent_at = {}
        for row, (line, e) in zip(rows, expected):
            self.assertEqual(int(row["line"]), line)
            self.assertEqual(int(row["t_ns"]), e["t"])
            self.assertEqual(row["event"], e["ev"])
            self.assertEqual(int(row["mid"]), e["mid"])
            self.assertEqual(int(row["src"]), e["src"])
            self.assertEqual(int(row["dst"]), e["pid"] if e["ev"] == "recv" else e["dst"])
            if e["ev"] == "send":
                sent_at[e["mid"]] = e["t"]
                self.assertEqual(row["data"], e["data"])
                self.assertEqual(int(row["size"]), e["size"])
            if e["ev"] == "deliver":
                self.assertEqual(int(row["latency_ns"]), e["t"] - sent_at[e["mid"]])
            if e["ev"] == "drop":
                self.assertEqual(row["reason"], e["reason"])

    def test_csv_quoting(self):
        # payload previews with commas and quotes (the lossy clients' "Hello from N" has none: make some)
        trace = self.path("quotes.jsonl")
        with open(self.lossy, encoding="utf-8") as f:
            lines = f.readlines()
        with open(trace, "w", encoding="utf-8") as f:
            for line in lines:
                f.write(line.replace('"data":"Hello from 2"', '"data":"a, \\"quoted\\"\\nline"'))
        rows = list(csv.DictReader(io.StringIO(self.export(trace, "csv"), newline="")))
        self.assertIn('a, "quoted"\nline', [r["data"] for r in rows])

    def test_unknown_format(self):
        r = dsim("report", self.faults, "--format", "svg")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown export format 'svg' (expected perfetto, shiviz, mermaid or csv)", r.stderr)


if __name__ == "__main__":
    unittest.main()
