"""dsim run through the real binary: the textbook scenarios, trace contents,
exit codes, run bounds, and every bad input we thought of."""
import csv
import os
import unittest

from dsimtest import DsimTestCase, path, read_trace, event_digest, run


class TraceFormat(DsimTestCase):
    # Version 2 leaves out "ch" on the default channel and "copy" on original copies.
    SCENARIO = """
net.configure{ duplicate = 0.5 }
local function echo(name)
  return function()
    local ch = channel.new(name)
    ch:join("echo")
    while true do
      local src, msg = ch:recvFromAny(1.0)
      if not src then return end
      ch:sendTo({src}, msg)
    end
  end
end
local function client(name)
  return function()
    local ch = channel.new(name)
    ch:join("client")
    for i = 1, 20 do ch:sendTo(ch:subgroup("echo"), "m" .. i) end
    while ch:recvFromAny(1.0) do end
  end
end
for _, name in ipairs{"default", "side"} do
  sim.spawn(echo(name))
  sim.spawn(client(name))
end
"""

    def test_usual_values_are_left_out(self):
        scen, trace = self.tmpfile("s.lua"), self.tmpfile("t.jsonl")
        with open(scen, "w") as f:
            f.write(self.SCENARIO)
        r = run("run", scen, "--seed", "3", "--trace", trace)
        self.assertExit(r, 0)
        header, events = read_trace(trace)
        self.assertEqual(header["version"], 2)
        with open(trace) as f:
            text = f.read()
        self.assertNotIn('"ch":"default"', text)
        self.assertNotIn('"copy":0', text)
        side = {e["pid"] for e in events if e["ev"] == "join" and e.get("ch") == "side"}
        default = {e["pid"] for e in events if e["ev"] == "join" and "ch" not in e}
        self.assertEqual(len(side), 2)
        self.assertEqual(len(default), 2)
        sends = [e for e in events if e["ev"] == "send"]
        self.assertTrue(sends)
        for e in sends:
            self.assertEqual(e.get("ch") == "side", e["src"] in side, e)
        dups = [e for e in events if e["ev"] == "dup"]
        self.assertTrue(dups)
        self.assertTrue(all(e["copy"] >= 1 for e in dups))
        copies = [e.get("copy", 0) for e in events if e["ev"] in ("deliver", "recv")]
        self.assertIn(0, copies)
        self.assertTrue(any(c >= 1 for c in copies))
        # reports read it back with the usual values filled in
        csv_path = self.tmpfile("t.csv")
        r = run("report", trace, "--format", "csv", "-o", csv_path)
        self.assertExit(r, 0)
        with open(csv_path, newline="") as f:
            rows = [row for row in csv.DictReader(f) if row["event"] == "deliver"]
        self.assertEqual(sorted(int(row["copy"]) for row in rows),
                         sorted(e.get("copy", 0) for e in events if e["ev"] == "deliver"))
        r = run("report", trace)
        self.assertExit(r, 0)
        self.assertIn("trace format 2", r.out)


class TextbookScenarios(DsimTestCase):
    def test_clientserver_every_client_gets_its_reply(self):
        trace = self.tmpfile("t.jsonl")
        r = run("run", path("scenarios/textbook/clientserver.lua"), "--seed", "1", "--trace", trace)
        self.assertExit(r, 0)
        self.assertIn("checks    10 passed, 0 failed", r.out)
        header, events = read_trace(trace)
        self.assertEqual(header["format"], "dsim-trace")
        self.assertEqual(header["version"], 2)
        self.assertEqual(header["seed"], 1)
        self.assertEqual(header["net"]["delay"], ["constant", 1000000])
        checks = [e for e in events if e["ev"] == "check"]
        self.assertEqual(len(checks), 10)
        self.assertTrue(all(c["ok"] for c in checks))
        # every client sent "Hello from <pid>" and got "Received Hello from <pid>"
        sends = [e for e in events if e["ev"] == "send"]
        self.assertEqual(len(sends), 20)
        hellos = {e["src"]: e["data"] for e in sends if e["dst"] == 1}
        self.assertEqual(sorted(hellos), list(range(2, 12)))
        for pid, data in hellos.items():
            self.assertEqual(data, f"Hello from {pid}")
        replies = {e["dst"]: e["data"] for e in sends if e["src"] == 1}
        for pid in range(2, 12):
            self.assertEqual(replies[pid], f"Received Hello from {pid}")
        # every send is delivered then received, linked by its message id
        delivered = {e["mid"] for e in events if e["ev"] == "deliver"}
        received = {e["mid"] for e in events if e["ev"] == "recv"}
        self.assertEqual({e["mid"] for e in sends}, delivered)
        self.assertEqual(delivered, received)
        for e in events:
            if e["ev"] == "deliver":
                send = next(s for s in sends if s["mid"] == e["mid"])
                self.assertEqual(e["t"] - send["t"], 1000000)
        # time never goes backwards; the run ends with an end line
        times = [e["t"] for e in events]
        self.assertEqual(times, sorted(times))
        end = events[-1]
        self.assertEqual(end["ev"], "end")
        self.assertEqual(end["reason"], "quiescent")
        self.assertEqual(end["sent"], 20)
        self.assertEqual(end["blocked"], [1])  # the server waits for ever
        self.assertEqual(r.digest, event_digest(trace))

    def test_join_before_fork_then_bind(self):
        trace = self.tmpfile("t.jsonl")
        r = run("run", path("scenarios/textbook/clientserver_fork.lua"), "--trace", trace)
        self.assertExit(r, 0)
        self.assertIn("10 passed, 0 failed", r.out)
        _, events = read_trace(trace)
        reserved = [e for e in events if e["ev"] == "join" and e.get("reserved")]
        self.assertEqual(len(reserved), 11)
        binds = [e for e in events if e["ev"] == "bind"]
        self.assertEqual(sorted(b["pid"] for b in binds), sorted(e["pid"] for e in reserved))

    def test_lossy_clients_retransmit_and_all_succeed(self):
        for seed in range(1, 21):
            r = run("run", path("scenarios/textbook/clientserver_lossy.lua"), "--seed", seed, "-q")
            self.assertExit(r, 0)
        trace = self.tmpfile("t.jsonl")
        r = run("run", path("scenarios/textbook/clientserver_lossy.lua"), "--seed", "7", "--trace", trace)
        _, events = read_trace(trace)
        drops = [e for e in events if e["ev"] == "drop"]
        self.assertGreater(len(drops), 0)
        self.assertTrue(all(d["reason"] == "loss" for d in drops))
        self.assertGreater(len([e for e in events if e["ev"] == "timeout"]), 0)

    def test_c_processes_from_lua(self):
        r = run("run", path("scenarios/examples/c_echo.lua"), "--seed", "3")
        self.assertExit(r, 0)
        self.assertIn("pid 1 (c echo_server): waiting for messages or timers", r.out)


class ExitCodesAndErrors(DsimTestCase):
    def test_failed_check_exits_1_and_names_it(self):
        r = run("run", path("tests/scenarios/failing_check.lua"), "--seed", "4")
        self.assertExit(r, 1)
        self.assertIn("check failed: arithmetic is broken", r.err)
        self.assertIn("t=1.500000000s", r.err)
        self.assertIn("in pid 1", r.err)
        self.assertIn("failing_check.lua:5", r.err)
        self.assertIn("replay: dsim run", r.err)
        self.assertIn("--seed 4", r.err)
        self.assertIn("1 passed, 1 failed", r.out)

    def test_error_inside_a_process_exits_2_with_file_and_line(self):
        trace = self.tmpfile("t.jsonl")
        r = run("run", path("tests/scenarios/error_in_process.lua"), "--trace", trace)
        self.assertExit(r, 2)
        self.assertIn("error_in_process.lua:4: attempt to index a nil value (local 'cfg')", r.err)
        self.assertIn("(in pid 1 at t=0.250000000s)", r.err)
        self.assertIn("stack traceback", r.err)
        _, events = read_trace(trace)
        self.assertEqual(events[-2]["ev"], "error")
        self.assertEqual(events[-1]["reason"], "error")

    def test_syntax_error(self):
        r = run("run", path("tests/scenarios/syntax_error.lua"))
        self.assertExit(r, 2)
        self.assertRegex(r.err, r"syntax_error\.lua:3: unfinished string")

    def test_send_to_unjoined_pid(self):
        r = run("run", path("tests/scenarios/unjoined_send.lua"))
        self.assertExit(r, 2)
        self.assertIn("unjoined_send.lua:4: sendTo: destination pid 42 does not exist", r.err)

    def test_runaway_process(self):
        r = run("run", path("tests/scenarios/busy_loop.lua"), "--max-steps", "2000000")
        self.assertExit(r, 2)
        self.assertIn("busy_loop.lua:3: ran more than 2000000 instructions without blocking", r.err)

    def test_missing_file(self):
        r = run("run", self.tmpfile("nope.lua"))
        self.assertExit(r, 2)
        self.assertIn("nope.lua: no such scenario file", r.err)

    def test_bad_command_lines(self):
        scen = path("scenarios/textbook/clientserver.lua")
        cases = [
            (["run"], "expected a scenario FILE"),
            (["run", scen, scen], "expected exactly one scenario FILE"),
            (["run", scen, "--bogus"], "Unknown option --bogus"),
            (["run", scen, "--seed", "abc"], "--seed expects a non-negative integer"),
            (["run", scen, "--seed", "-3"], "--seed expects a non-negative integer"),
            (["run", scen, "--seed", "99999999999999999999999"], "--seed expects"),
            (["run", scen, "--seed"], "Missing argument for --seed"),
            (["run", scen, "--until", "soon"], "'soon' is not a duration"),
            (["run", scen, "--until", "-1"], "negative duration"),
            (["run", scen, "--max-events", "1e6"], "--max-events expects a non-negative integer"),
            (["run", scen, "--trace", "/nonexistent-dir/t.jsonl"], "cannot create trace file '/nonexistent-dir/t.jsonl'"),
            (["frobnicate"], "unknown command 'frobnicate'"),
            ([], "usage: dsim <command>"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                r = run(*args)
                self.assertExit(r, 2)
                self.assertIn(message, r.err)
                self.assertLessEqual(len(r.err.strip().splitlines()), 12)

    def test_hex_seed_and_help(self):
        r = run("run", path("scenarios/textbook/clientserver.lua"), "--seed", "0x10", "-q")
        self.assertExit(r, 0)
        r = run("run", "--help")
        self.assertExit(r, 0)
        self.assertIn("--seed", r.out)
        self.assertIn("Exit status", r.out)
        self.assertExit(run("--help"), 0)
        r = run("version")
        self.assertExit(r, 0)
        self.assertRegex(r.out, r"^dsim \d+\.\d+\.\d+")

    def test_quiet_prints_nothing_on_success(self):
        r = run("run", path("scenarios/textbook/clientserver.lua"), "-q")
        self.assertExit(r, 0)
        self.assertEqual(r.out, "")
        self.assertEqual(r.err, "")


class Parameters(DsimTestCase):
    def test_params_reach_the_scenario_and_the_header(self):
        t = self.tmpfile("t.jsonl")
        r = run("run", path("tests/scenarios/params.lua"), "-D", "N=42", "--define", "NAME=bob", "--trace", t)
        self.assertExit(r, 0)
        self.assertIn("N=42 NAME=bob", r.out)
        header, _ = read_trace(t)
        self.assertEqual(header["params"], {"N": "42", "NAME": "bob"})
        r = run("run", path("tests/scenarios/params.lua"))
        self.assertIn("N=3 NAME=anon", r.out)

    def test_bad_params(self):
        scen = path("tests/scenarios/params.lua")
        r = run("run", scen, "-D", "N=many")
        self.assertExit(r, 2)
        self.assertIn("params.lua:2: sim.param: 'N' must be a number (got -D N=many)", r.err)
        for bad, msg in ((["-D", "9x=1"], "-D expects NAME=VALUE"), (["-D", "novalue"], "-D expects NAME=VALUE"),
                         (["-D", "A=1", "-D", "A=2"], "-D A is given twice")):
            with self.subTest(bad=bad):
                r = run("run", scen, *bad)
                self.assertExit(r, 2)
                self.assertIn(msg, r.err)

    def test_missing_param_without_default(self):
        f = self.tmpfile("p.lua")
        with open(f, "w") as out:
            out.write('local x = sim.param("X")\n')
        r = run("run", f)
        self.assertExit(r, 2)
        self.assertIn("sim.param: no value for 'X' (give one with -D X=VALUE)", r.err)

    def test_no_digest(self):
        r = run("run", path("scenarios/textbook/clientserver.lua"), "--no-digest")
        self.assertExit(r, 0)
        self.assertIn("digest    (not computed: --no-digest)", r.out)
        r = run("run", path("scenarios/textbook/clientserver.lua"), "--no-digest", "--trace", self.tmpfile("t"))
        self.assertExit(r, 2)
        self.assertIn("--no-digest cannot be combined with --trace", r.err)


class RunBounds(DsimTestCase):
    def test_until_stops_a_scenario_that_never_ends(self):
        r = run("run", path("tests/scenarios/forever.lua"), "--until", "1s")
        self.assertExit(r, 0)
        self.assertIn("stopped by --until at t=1.000000000s", r.out)
        r = run("run", path("tests/scenarios/forever.lua"), "--until", "250ms", "--trace", self.tmpfile("t"))
        _, events = read_trace(self.tmpfile("t"))
        self.assertEqual(events[-1]["reason"], "until")
        self.assertEqual(events[-1]["t"], 250000000)

    def test_max_events(self):
        r = run("run", path("tests/scenarios/forever.lua"), "--max-events", "5")
        self.assertExit(r, 0)
        self.assertIn("stopped by --max-events", r.out)
        self.assertIn("after 5 events", r.out)

    def test_default_event_bound_ends_an_endless_run(self):
        # without bounds the default --max-events (1e8) applies; use a small
        # one here to keep the test quick, as the default is the same code path
        r = run("run", path("tests/scenarios/forever.lua"), "--max-events", "100000")
        self.assertIn("stopped by --max-events", r.out)


class TraceMemory(DsimTestCase):
    def peak_rss_kb(self, *args):
        import subprocess
        from dsimtest import DSIM, ROOT
        proc = subprocess.Popen([DSIM, *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0, proc.stderr.read())
        proc.stderr.close()
        return usage.ru_maxrss

    def test_trace_memory_does_not_grow_with_run_length(self):
        t = self.tmpfile("t.jsonl")
        short = self.peak_rss_kb("run", path("tests/scenarios/chatter.lua"), "--until", "20s", "--trace", t, "-q")
        size_short = os.path.getsize(t)
        long = self.peak_rss_kb("run", path("tests/scenarios/chatter.lua"), "--until", "200s", "--trace", t, "-q")
        size_long = os.path.getsize(t)
        self.assertGreater(size_long, 9 * size_short)  # 10x the trace ...
        self.assertGreater(size_short, 2_000_000)
        self.assertLess(long, short + 4096)            # ... within 4 MiB of the same memory


class EmbeddingExample(DsimTestCase):
    def test_embed_example_runs_without_lua(self):
        import subprocess
        from dsimtest import BUILD
        exe = os.path.join(BUILD, "embed_pingpong")
        out1 = subprocess.run([exe, "20", "50", "3"], capture_output=True, text=True, timeout=60)
        out2 = subprocess.run([exe, "20", "50", "3"], capture_output=True, text=True, timeout=60)
        self.assertEqual(out1.returncode, 0, out1.stdout + out1.stderr)
        self.assertIn("pairs done: 20 of 20", out1.stdout)
        self.assertEqual(out1.stdout, out2.stdout)
        self.assertRegex(out1.stdout, r"[1-9]\d* dropped")


if __name__ == "__main__":
    unittest.main()
