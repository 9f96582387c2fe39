"""Mutated traces (bytes flipped, lines cut, swapped, dropped or altered):
every command either reports (exit 0; diff 0 or 1) or refuses with one line
naming the file (exit 2), never crashes. The mutations come from a fixed
seed, printed; under the sanitizer build this is also a memory-error test."""
import os
import random
import sys
import unittest

from report_support import FAULTS, TraceCase, dsim

SEED = 5150
MUTATIONS = 40


def mutate(rng, data):
    lines = data.split(b"\n")
    kind = rng.randrange(6)
    if kind == 0:  # flip a few bytes
        out = bytearray(data)
        for _ in range(rng.randrange(1, 5)):
            out[rng.randrange(len(out))] = rng.randrange(256)
        return bytes(out)
    if kind == 1:  # cut anywhere
        return data[:rng.randrange(len(data))]
    a, b = rng.randrange(1, len(lines) - 1), rng.randrange(1, len(lines) - 1)
    if kind == 2:  # swap two lines (time may go backwards)
        lines[a], lines[b] = lines[b], lines[a]
    elif kind == 3:  # drop a line (a message loses its send, a copy its delivery)
        del lines[a]
    elif kind == 4:  # a message id points elsewhere
        lines[a] = lines[a].replace(b'"mid":', b'"mid":9')
    else:  # digits change: pids, times, counts
        lines[a] = lines[a].replace(b"1", b"0")
    return b"\n".join(lines)


class TestMutations(TraceCase):
    def test_mutated_traces(self):
        print(f"mutation seed {SEED}", file=sys.stderr)
        good = self.make_trace(FAULTS, 4, "good.jsonl")
        with open(good, "rb") as f:
            data = f.read()
        rng = random.Random(SEED)
        path = self.path("mutant.jsonl")
        for i in range(MUTATIONS):
            with open(path, "wb") as f:
                f.write(mutate(rng, data))
            commands = [
                (("report", path), (0, 2)),
                (("report", path, "--html", self.path("m.html")), (0, 2)),
                (("report", path, "--format", "shiviz"), (0, 2)),
                (("report", path, "--format", "perfetto", "--pid", "2"), (0, 2)),
                (("diff", good, path), (0, 1, 2)),
            ]
            for args, allowed in commands:
                with self.subTest(mutation=i, command=args[0], option=args[2] if len(args) > 2 else ""):
                    r = dsim(*args)
                    self.assertIn(r.returncode, allowed, r.stderr[-2000:])
                    for noise in ("Sanitizer", "runtime error", "CRITICAL", "WARNING"):
                        self.assertNotIn(noise, r.stderr)
                    if r.returncode == 2:
                        self.assertEqual(r.stderr.count("\n"), 1, r.stderr)
                        self.assertIn("mutant.jsonl", r.stderr)
            if os.path.exists(self.path("m.html")):
                os.remove(self.path("m.html"))


if __name__ == "__main__":
    unittest.main()
