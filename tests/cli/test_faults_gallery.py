"""The failure gallery (scenarios/failures/) does what it says: each file
exits as its `Expect:` line documents, with the check it names, when run
as its `Run:` line says; the README lists every file; and the claims the
comments make about variants (FIFO ordering, a sync, a broken protocol
under the nemesis) hold.

Environment (set by CTest): DSIM, the binary; DSIM_ROOT, the source tree.
"""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

DSIM = os.environ.get("DSIM", "dsim")
ROOT = os.environ.get("DSIM_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
GALLERY = os.path.join(ROOT, "scenarios", "failures")


def scenarios():
    return sorted(f for f in os.listdir(GALLERY) if f.endswith(".lua"))


def header(name):
    """The documented exit status, the check a failure names, and the seed."""
    with open(os.path.join(GALLERY, name), encoding="utf-8") as f:
        text = f.read()
    expect = re.search(r"^-- Expect: exit (\d)(.*)$", text, re.M)
    run_line = re.search(r"^-- Run: +dsim run scenarios/failures/(\S+) --seed (\d+)$", text, re.M)
    assert expect and run_line, f"{name} lacks its Expect:/Run: lines"
    assert run_line.group(1) == name, f"{name}: its Run: line names {run_line.group(1)}"
    check = re.search(r'"([^"]+)"', expect.group(2))
    return int(expect.group(1)), check.group(1) if check else None, run_line.group(2), text


def run(path, seed):
    return subprocess.run([DSIM, "run", path, "--seed", str(seed), "-q"], capture_output=True, text=True,
                          timeout=120)


class Gallery(unittest.TestCase):
    def test_there_is_a_gallery(self):
        self.assertGreaterEqual(len(scenarios()), 6)

    def test_each_scenario_exits_as_documented(self):
        for name in scenarios():
            status, check, seed, _ = header(name)
            with self.subTest(scenario=name):
                r = run(os.path.join(GALLERY, name), seed)
                self.assertEqual(r.returncode, status, r.stderr)
                if status == 1:
                    self.assertIsNotNone(check, f"{name}: a failing scenario names its check")
                    self.assertIn(f"check failed: {check}", r.stderr)

    def test_readme_lists_every_scenario(self):
        with open(os.path.join(GALLERY, "README.md"), encoding="utf-8") as f:
            readme = f.read()
        listed = set(re.findall(r"\[([a-z_0-9]+\.lua)\]\(\1\)", readme))
        self.assertEqual(listed, set(scenarios()))
        for name in scenarios():
            status, _, _, _ = header(name)
            row = next(l for l in readme.splitlines() if f"[{name}]" in l)
            self.assertIn(f"exit {status}", row)


class GalleryClaims(unittest.TestCase):
    """What the comments say about variants of the scenarios."""

    def variant(self, name, old, new):
        _, _, seed, text = header(name)
        self.assertIn(old, text)
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        path = os.path.join(d, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace(old, new))
        return path, seed

    def test_fifo_ordering_fixes_the_reordering(self):
        path, seed = self.variant("reordering_breaks_fifo.lua", 'delay = {"uniform", "1ms", "20ms"} }',
                                  'delay = {"uniform", "1ms", "20ms"}, ordering = "fifo" }')
        self.assertEqual(run(path, seed).returncode, 0)

    def test_a_sync_before_replying_keeps_the_deposits(self):
        path, seed = self.variant("unsynced_write.lua", 'ch:sendTo(client, "ok")',
                                  'sim.sync(); ch:sendTo(client, "ok")')
        self.assertEqual(run(path, seed).returncode, 0)

    def test_nemesis_counter_holds_for_other_seeds_and_catches_a_broken_server(self):
        good = os.path.join(GALLERY, "nemesis_counter.lua")
        for seed in range(2, 7):
            self.assertEqual(run(good, seed).returncode, 0, seed)
        broken, _ = self.variant("nemesis_counter.lua", "if not answers[req.id] then", "if true then")
        failures = sum(run(broken, seed).returncode == 1 for seed in range(1, 7))
        self.assertGreaterEqual(failures, 3)


if __name__ == "__main__":
    unittest.main()
