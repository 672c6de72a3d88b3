"""Whole-process behaviour: SIGKILL mid-run, fork (DataLoader workers), exit without finish,
uncaught exceptions, and the v0.6-style example script (SDK.md §5)."""

import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import unittest

from helpers import StoreTest, read_events, read_json, read_logs, run_script

HERE = pathlib.Path(__file__).resolve().parent


def only_run(store):
    runs = [p.parent for p in pathlib.Path(store).glob("runs/**/meta.json")]
    assert len(runs) == 1, runs
    return runs[0]


class ProcessTest(StoreTest):
    def test_sigkill_keeps_data_up_to_the_last_flush(self):
        code = f"""
            import sys, time, runicorn as rn
            run = rn.init(storage={str(self.store)!r}, path="killed")
            for i in range(1000):
                run.log({{"loss": 1.0 / (i + 1), "i": i}})
            run.log_text("before kill")
            run.flush()
            print("ready", flush=True)
            for i in range(1000, 1000000):
                run.log({{"loss": 0.0, "i": i}})
                time.sleep(0.0005)
        """
        p = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)],
                             stdout=subprocess.PIPE, text=True, env=dict(os.environ))
        try:
            self.assertEqual(p.stdout.readline().strip(), "ready")
            os.kill(p.pid, signal.SIGKILL)
            p.wait(30)
        finally:
            if p.poll() is None:
                p.kill()
            p.stdout.close()
        run_dir = only_run(self.store)
        text = (run_dir / "events.jsonl").read_text()
        lines = text.split("\n")
        complete = lines[:-1]  # at most the last line may be torn
        ev = read_events(run_dir) if text.endswith("\n") else None
        self.assertGreaterEqual(len(complete), 1000)
        import json
        steps = [json.loads(x)["data"]["global_step"] for x in complete]
        self.assertEqual(steps, list(range(1, len(complete) + 1)))
        self.assertIn("before kill", read_logs(run_dir))
        self.assertEqual(read_json(run_dir / "status.json")["status"], "running")
        del ev

    def test_fork_child_does_not_touch_the_parent_run(self):
        code = f"""
            import os, sys, runicorn as rn
            run = rn.init(storage={str(self.store)!r}, path="forked", capture_console=True)
            for i in range(5):
                run.log({{"parent": i}})
            for exit_kind in ("os_exit", "normal"):
                pid = os.fork()
                if pid == 0:
                    # A DataLoader worker: logs and prints, then exits.
                    child_run = rn.get_active_run()
                    for i in range(50):
                        child_run.log({{"child": i}})
                    print("child line", flush=True)
                    child_run.finish()
                    if exit_kind == "os_exit":
                        os._exit(0)
                    sys.exit(0)
                _, status = os.waitpid(pid, 0)
                assert os.WEXITSTATUS(status) == 0, status
            for i in range(5, 10):
                run.log({{"parent": i}})
            print("parent line")
            run.finish()
        """
        r = run_script(code)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.count("child line"), 2)  # the terminal still sees the child
        run_dir = only_run(self.store)
        ev = read_events(run_dir)
        self.assertEqual([e["data"].get("parent") for e in ev], list(range(10)))
        self.assertEqual([e["data"]["global_step"] for e in ev], list(range(1, 11)))
        self.assertEqual(read_json(run_dir / "status.json")["status"], "finished")
        logs = read_logs(run_dir)
        self.assertNotIn("child line", logs)
        self.assertIn("parent line", logs)

    def test_init_in_fork_child_makes_a_new_run(self):
        code = f"""
            import os, runicorn as rn
            parent = rn.init(storage={str(self.store)!r}, path="parent")
            parent.log({{"p": 1}})
            pid = os.fork()
            if pid == 0:
                child = rn.init(storage={str(self.store)!r}, path="child")
                child.log({{"c": 1}})
                child.finish()
                os._exit(0)
            os.waitpid(pid, 0)
            parent.finish()
        """
        r = run_script(code)
        self.assertEqual(r.returncode, 0, r.stderr)
        child_dir = next((self.store / "runs" / "child").iterdir())
        self.assertEqual(read_events(child_dir)[0]["data"]["c"], 1)
        self.assertEqual(read_json(child_dir / "status.json")["status"], "finished")

    def test_exit_without_finish(self):
        r = run_script(f"""
            import runicorn as rn
            run = rn.init(storage={str(self.store)!r})
            run.log({{"a": 1}})
        """)
        self.assertEqual(r.returncode, 0, r.stderr)
        run_dir = only_run(self.store)
        st = read_json(run_dir / "status.json")
        self.assertEqual(st["status"], "finished")
        self.assertEqual(st["exit_reason"], "process_exit")
        self.assertEqual(len(read_events(run_dir)), 1)

    def test_uncaught_exception_marks_failed(self):
        r = run_script(f"""
            import runicorn as rn
            run = rn.init(storage={str(self.store)!r})
            run.log({{"a": 1}})
            raise RuntimeError("training blew up")
        """)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("training blew up", r.stderr)
        st = read_json(only_run(self.store) / "status.json")
        self.assertEqual(st["status"], "failed")
        self.assertEqual(st["exit_reason"], "exception")
        self.assertEqual(st["error"], {"type": "RuntimeError", "message": "training blew up"})

    def test_v06_example_runs_unchanged(self):
        example = HERE.parent / "examples" / "pytorch_style.py"
        env = dict(os.environ, RUNICORN_DIR=str(self.store))
        r = subprocess.run([sys.executable, str(example)], env=env, capture_output=True,
                           text=True, timeout=120, cwd=str(self.store))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("done", r.stdout)
        run_dir = only_run(self.store)
        ev = read_events(run_dir)
        self.assertEqual(len(ev), 3 * 20 + 3)
        self.assertEqual(ev[-1]["data"]["stage"], "val")
        self.assertEqual(ev[-1]["data"]["global_step"], 63)
        summary = read_json(run_dir / "summary.json")
        self.assertEqual(summary["best_metric_name"], "val_acc")
        self.assertEqual(summary["best_metric_step"], 63)
        self.assertIn("final_val_acc", summary)
        assets = read_json(run_dir / "assets.json")
        self.assertEqual(assets["config"]["args"]["model"], "resnet18")
        self.assertEqual(assets["datasets"][0]["name"], "cifar10")
        logs = read_logs(run_dir)
        self.assertIn("] epoch 2: val_acc=", logs)
        self.assertIn(" | INFO | trainer | epoch 2 done", logs)
        self.assertEqual(read_json(run_dir / "status.json")["status"], "finished")


if __name__ == "__main__":
    unittest.main()
