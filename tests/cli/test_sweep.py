"""dsim sweep: many seeds, failures listed with their replay commands."""
import re
import unittest

from dsimtest import DsimTestCase, path, run


class Sweep(DsimTestCase):
    def test_all_seeds_pass(self):
        r = run("sweep", path("scenarios/textbook/clientserver_lossy.lua"), "--seeds", "1..40", "-j", "2")
        self.assertExit(r, 0)
        self.assertIn("40 seeds run: 40 passed, 0 failed, 0 errors; 40 distinct traces", r.out)

    def test_failing_seeds_are_listed_with_replays_that_reproduce_them(self):
        r = run("sweep", path("tests/scenarios/no_retry.lua"), "--seeds", "1..60", "-j", "2")
        self.assertExit(r, 1)
        m = re.search(r"60 seeds run: (\d+) passed, (\d+) failed, 0 errors", r.out)
        self.assertIsNotNone(m, r.out)
        passed, failed = int(m.group(1)), int(m.group(2))
        self.assertGreater(passed, 0)
        self.assertGreater(failed, 0)
        seeds = [int(s) for s in re.findall(r"seed (\d+): FAIL check failed: client \d+ got no reply", r.out)]
        self.assertEqual(len(seeds), min(failed, 20))
        self.assertEqual(seeds, sorted(seeds))
        # the replay command reproduces the failure, and a passing seed passes
        first = seeds[0]
        self.assertIn(f"replay: dsim run {path('tests/scenarios/no_retry.lua')} --seed {first}", r.out)
        self.assertExit(run("run", path("tests/scenarios/no_retry.lua"), "--seed", first, "-q"), 1)
        ok = next(s for s in range(1, 61) if s not in seeds)
        self.assertExit(run("run", path("tests/scenarios/no_retry.lua"), "--seed", ok, "-q"), 0)
        # the same sweep gives the same report, whatever the parallelism
        r1 = run("sweep", path("tests/scenarios/no_retry.lua"), "--seeds", "1..60", "-j", "1")
        self.assertEqual(r1.out, r.out)

    def test_parameters_reach_every_run(self):
        r = run("sweep", path("tests/scenarios/no_retry.lua"), "--seeds", "1..10", "-D", "LOSS=0")
        self.assertExit(r, 0)
        r = run("sweep", path("tests/scenarios/no_retry.lua"), "--seeds", "1..5", "-D", "LOSS=1")
        self.assertExit(r, 1)
        self.assertIn("-D LOSS=1", r.out)  # in the replay commands

    def test_stop_on_fail(self):
        r = run("sweep", path("tests/scenarios/failing_check.lua"), "--seeds", "1..50", "--stop-on-fail")
        self.assertExit(r, 1)
        self.assertRegex(r.out, r"[1-9] seeds? run: 0 passed")

    def test_scenario_errors_exit_2(self):
        r = run("sweep", path("tests/scenarios/error_in_process.lua"), "--seeds", "1..3")
        self.assertExit(r, 2)
        self.assertIn("3 errors", r.out)
        self.assertIn("error_in_process.lua:4: attempt to index a nil value", r.out)

    def test_bad_arguments(self):
        scen = path("scenarios/textbook/clientserver.lua")
        for args, msg in (((scen,), "--seeds is required"), ((scen, "--seeds", "5..1"), "--seeds expects"),
                          ((scen, "--seeds", "x"), "--seeds expects"), ((scen, "--seeds", ""), "--seeds"),
                          ((scen, "--seeds", "1..2", "-j", "0"), "-j expects"),
                          (("--seeds", "1..2"), "expected exactly one scenario FILE"),
                          ((self.tmpfile("none.lua"), "--seeds", "1"), "no such scenario file"),
                          ((scen, "--seeds", "1", "--bogus"), "Unknown option --bogus")):
            with self.subTest(args=args):
                r = run("sweep", *args)
                self.assertExit(r, 2)
                self.assertIn(msg, r.err)


if __name__ == "__main__":
    unittest.main()
