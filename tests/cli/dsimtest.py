"""Helpers for tests that run the real dsim binary.

The CTest entries set DSIM (the binary), DSIM_ROOT (the source tree) and
DSIM_BUILD (the build tree)."""
import hashlib
import json
import os
import subprocess
import tempfile
import unittest

DSIM = os.environ.get("DSIM", "dsim")
ROOT = os.environ.get("DSIM_ROOT", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD = os.environ.get("DSIM_BUILD", os.path.join(ROOT, "build"))


def path(*parts):
    """A path in the source tree."""
    return os.path.join(ROOT, *parts)


class Result:
    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def __repr__(self):
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"

    @property
    def digest(self):
        for line in self.out.splitlines():
            line = line.strip()
            if line.startswith("digest"):
                return line.split("sha256:")[1]
        raise AssertionError(f"no digest in output:\n{self.out}")


def run(*args, timeout=120, cwd=ROOT):
    """Runs dsim with args; never raises on a non-zero exit."""
    proc = subprocess.run([DSIM, *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=cwd)
    return Result(proc)


def read_trace(file):
    """Returns (header, events) of a trace, checking every line is JSON."""
    with open(file, "rb") as f:
        lines = f.read().split(b"\n")
    assert lines[-1] == b"", "trace does not end with a newline"
    objs = [json.loads(l) for l in lines[:-1]]
    return objs[0], objs[1:]


def event_digest(file):
    """SHA-256 of every line after the header, as dsim defines its digest."""
    with open(file, "rb") as f:
        data = f.read()
    return hashlib.sha256(data[data.index(b"\n") + 1:]).hexdigest()


class DsimTestCase(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="dsim-test-")
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def tmpfile(self, name):
        return os.path.join(self.tmp, name)

    def assertExit(self, result, code):
        self.assertEqual(result.code, code, repr(result))
