"""Bad traces: every command refuses each with exit status 2 and one clear
line on stderr naming the file and the line, never a crash or a hang, and
leaves no half-written output file behind."""
import os
import unittest

from report_support import FAULTS, TraceCase, dsim


class TestBadInput(TraceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        good = cls.make_trace(FAULTS, 4, "good.jsonl")
        with open(good, encoding="utf-8") as f:
            cls.lines = f.readlines()
        cls.good = good

    def variant(self, name, text):
        path = self.path(name)
        with open(path, "wb") as f:
            f.write(text.encode("utf-8") if isinstance(text, str) else text)
        return path

    def cases(self):
        lines, n = self.lines, len(self.lines)
        header = lines[0]
        return [
            ("empty.jsonl", "", 1, "empty file"),
            ("truncated.jsonl", "".join(lines)[:-20], n, "truncated line"),
            ("notjson.jsonl", "".join(lines[:7] + ["this is not JSON\n"] + lines[7:]), 8, "not valid JSON"),
            ("concatenated.jsonl", "".join(lines[:3] + [lines[3].rstrip("\n") + lines[4]] + lines[5:]), 4,
             "not valid JSON"),
            ("format.jsonl", "".join([header.replace('"dsim-trace"', '"other-trace"')] + lines[1:]), 1,
             "not a dsim trace"),
            ("version0.jsonl", "".join([header.replace('"version":2', '"version":0')] + lines[1:]), 1,
             "unknown trace format version"),
            ("versionstr.jsonl", "".join([header.replace('"version":2', '"version":"one"')] + lines[1:]), 1,
             "unknown trace format version"),
            ("newer.jsonl", "".join([header.replace('"version":2', '"version":7')] + lines[1:]), 1,
             "trace format version 7 is newer than this dsim reads"),
            ("noheader.jsonl", "".join(lines[1:]), 1, "missing header"),
            ("garbage.jsonl", b"\x00\x01\xfe\xff binary\n more\n", 1, "not a dsim trace: not valid JSON"),
            ("backwards.jsonl", "".join(lines[:-1] + ['{"t":0,"ev":"log","pid":1,"msg":"late"}\n']), n,
             "time goes backwards"),
            ("field.jsonl", "".join(lines[:2] + ['{"t":0,"ev":"send","mid":1,"src":1}\n'] + lines[2:]), 3,
             '"send" event: missing field "dst"'),
            # Version 1 always wrote the channel and the copy number; version 2 leaves out their usual values.
            ("v1field.jsonl", "".join([header.replace('"version":2', '"version":1')] + lines[1:2] +
                                      ['{"t":0,"ev":"send","mid":1,"src":1,"dst":2,"size":0,"data":""}\n'] + lines[2:]),
             3, '"send" event: missing field "ch"'),
            ("v1copy.jsonl", "".join([header.replace('"version":2', '"version":1')] + lines[1:2] +
                                     ['{"t":0,"ev":"drop","mid":1,"src":1,"dst":2,"reason":"loss"}\n'] + lines[2:]),
             3, '"drop" event: missing field "copy"'),
        ]

    def expect_refusal(self, r, path, line, what):
        self.assertEqual(r.returncode, 2, (path, r.stderr))
        err = r.stderr
        self.assertTrue(err.endswith("\n") and err.count("\n") == 1, f"not one line: {err!r}")
        self.assertIn(f"{path}:{line}: {what}", err)
        for noise in ("Sanitizer", "runtime error", "CRITICAL", "WARNING", "Traceback", "Segmentation"):
            self.assertNotIn(noise, err)

    def test_every_command_refuses_every_bad_trace(self):
        for name, text, line, what in self.cases():
            path = self.variant(name, text)
            with self.subTest(trace=name):
                r = dsim("report", path)
                self.expect_refusal(r, path, line, what)
                self.assertEqual(r.stdout, "")
                out = self.path(name + ".html")
                self.expect_refusal(dsim("report", path, "--html", out), path, line, what)
                self.assertFalse(os.path.exists(out))
                for fmt in ("perfetto", "shiviz", "mermaid", "csv"):
                    out = self.path(f"{name}.{fmt}")
                    self.expect_refusal(dsim("report", path, "--format", fmt, "-o", out), path, line, what)
                    self.assertFalse(os.path.exists(out))
                self.expect_refusal(dsim("diff", self.good, path), path, line, what)
                self.expect_refusal(dsim("diff", path, self.good), path, line, what)

    def test_not_a_file(self):
        r = dsim("report", self.path("no-such.jsonl"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot open trace", r.stderr)
        self.assertIn("no-such.jsonl", r.stderr)
        r = dsim("report", self.dir)
        self.assertEqual(r.returncode, 2)
        self.assertIn(self.dir, r.stderr)
        self.assertEqual(r.stderr.count("\n"), 1)

    def test_unwritable_output(self):
        r = dsim("report", self.good, "--html", os.path.join(self.dir, "no", "such", "dir", "x.html"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot create", r.stderr)


if __name__ == "__main__":
    unittest.main()
