"""The HTML report in a real browser (Debian's chromium, headless): the page
loads without JavaScript errors or console errors, its diagram has one arrow
per delivered message (counted from the trace here), and a screenshot shows
something. Skipped, saying so, only when chromium is not installed; CI
installs it (dev.sh)."""
import html.parser
import os
import shutil
import struct
import subprocess
import tempfile
import unittest
import zlib

from report_support import FAULTS, FAULTS_ALL, FAULTS_EDGES, LOSSY, TraceCase, dsim, load

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(*args, profile):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", *args]
    # the timeout only keeps a stuck browser from hanging the suite
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


class Dom(html.parser.HTMLParser):
    def __init__(self, text):
        super().__init__()
        self.root = {}
        self.arrows = {}
        self.svg = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.root = a
        if tag == "svg":
            self.svg.append(a.get("id"))
        if self.svg and "arrow" in (a.get("class") or "").split():
            self.arrows[self.svg[-1]] = self.arrows.get(self.svg[-1], 0) + 1

    def handle_endtag(self, tag):
        if tag == "svg":
            self.svg.pop()


def png_pixels(path):
    """(width, height, distinct raw scanline bytes) of an 8-bit PNG."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise AssertionError("not a PNG")
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", chunk[:8])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    return width, height, len(set(raw))


@unittest.skipIf(CHROMIUM is None, "chromium is not installed (apt-get install chromium; dev.sh installs it)")
class TestBrowser(TraceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.profile = tempfile.mkdtemp(prefix="dsim-chromium-", dir=cls.dir)

    def render(self, trace, name):
        page = self.path(name)
        r = dsim("report", trace, "--html", page)
        self.assertEqual(r.returncode, 0, r.stderr)
        return page

    def dump(self, page):
        r = chromium("--dump-dom", "file://" + page, profile=self.profile)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        return Dom(r.stdout)

    def test_page_loads_cleanly_with_one_arrow_per_delivery(self):
        for i, (scenario, seed) in enumerate(((LOSSY, 3), (FAULTS, 4), (FAULTS_ALL, 1), (FAULTS_EDGES, 3))):
            with self.subTest(scenario=scenario):
                trace = self.make_trace(scenario, seed, f"t{i}.jsonl")
                delivered = sum(1 for e in load(trace)[1:] if e["ev"] == "deliver")
                dom = self.dump(self.render(trace, f"t{i}.html"))
                self.assertEqual(dom.root.get("data-ready"), "1")  # the page's own script ran to its end
                self.assertEqual(dom.root.get("data-errors"), "0")
                self.assertEqual(dom.arrows.get("main"), delivered)

    def test_errors_would_be_seen(self):
        # the same page with a script that fails and one that logs an error:
        # the counter the test relies on must see them
        trace = self.make_trace(LOSSY, 3, "broken.jsonl")
        page = self.render(trace, "broken.html")
        with open(page, encoding="utf-8") as f:
            text = f.read()
        text = text.replace("</body>", "<script>console.error('seen');</script>"
                                       "<script>undefinedFunction();</script></body>")
        with open(page, "w", encoding="utf-8") as f:
            f.write(text)
        dom = self.dump(page)
        self.assertGreaterEqual(int(dom.root.get("data-errors", "0")), 2)

    def test_screenshot(self):
        trace = self.make_trace(FAULTS, 4, "shot.jsonl")
        page = self.render(trace, "shot.html")
        shot = self.path("report.png")
        r = chromium(f"--screenshot={shot}", "--window-size=1400,900", "file://" + page, profile=self.profile)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        self.assertTrue(os.path.exists(shot))
        self.assertGreater(os.path.getsize(shot), 20000)
        width, height, distinct = png_pixels(shot)
        self.assertEqual((width, height), (1400, 900))
        self.assertGreater(distinct, 50)  # text, lines and colours, not a blank page
        keep = os.environ.get("DSIM_BUILD")
        if keep:  # leave the picture where a person can look at it
            shutil.copy(shot, os.path.join(keep, "report-screenshot.png"))


if __name__ == "__main__":
    unittest.main()
