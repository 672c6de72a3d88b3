"""rn.init: files, bad input at init, no-op switch, context manager, active run
(SDK.md §1.1, §1.8, §4.3–4.5, §4.7)."""

import os
import platform
import unittest
import warnings
from unittest import mock

import runicorn as rn
from runicorn.enabled import NoOpRun

from helpers import StoreTest, read_events, read_json


class InitTest(StoreTest):
    def test_creates_the_v06_run_folder(self):
        run = self.init(path="cv/yolo", alias="base", tags=["a", "b"])
        self.assertTrue(run.run_dir.is_dir())
        self.assertEqual(run.run_dir, self.store.resolve() / "runs" / "cv" / "yolo" / run.id)
        self.assertRegex(run.id, r"^[0-9]{8}_[0-9]{6}_[0-9a-f]{6}$")
        meta = read_json(run.run_dir / "meta.json")
        self.assertEqual(meta["id"], run.id)
        self.assertEqual(meta["path"], "cv/yolo")
        self.assertEqual(meta["alias"], "base")
        self.assertEqual(meta["python"], platform.python_version())
        self.assertTrue(meta["writer"].endswith(" python"), meta["writer"])
        self.assertEqual(meta["tags"], ["a", "b"])
        self.assertEqual(read_json(run.run_dir / "status.json")["status"], "running")
        self.assertEqual(read_json(run.run_dir / "assets.json"),
                         {"code": {}, "config": {}, "datasets": [], "pretrained": [],
                          "outputs": []})
        self.assertTrue(run.media_dir.is_dir())
        self.assertEqual(run.path, "cv/yolo")
        self.assertEqual(run.storage_root, self.store.resolve())
        self.assertEqual(run.runs_dir, self.store.resolve() / "runs")
        self.assertEqual(run.tags, ["a", "b"])
        self.assertFalse(run.finished)
        run.finish()
        self.assertTrue(run.finished)
        st = read_json(run.run_dir / "status.json")
        self.assertEqual(st["status"], "finished")
        self.assertIn("ended_at", st)

    def test_project_name_and_run_id(self):
        run = self.init(project="proj", name="exp1", run_id="my-run.1")
        self.assertEqual(run.id, "my-run.1")
        self.assertEqual(run.path, "proj/exp1")
        root = self.init(path="/")
        self.assertEqual(root.path, "")
        default = self.init()
        self.assertEqual(default.path, "default")

    def test_bad_paths_raise_value_error(self):
        for bad in ["../x", "a/../b", "a b", "a*b", "x" * 201, "///"]:
            with self.subTest(path=bad):
                with self.assertRaises(ValueError) as cm:
                    rn.init(path=bad, storage=str(self.store))
                self.assertIn("path", str(cm.exception).lower())
        self.assertFalse((self.store / "runs").exists() and any((self.store / "runs").iterdir()))

    def test_bad_arguments_raise_value_error(self):
        s = str(self.store)
        cases = [dict(run_id="../evil"), dict(run_id=".hidden"), dict(tqdm_mode="fancy"),
                 dict(path="a", project="p"), dict(resume="sometimes"),
                 dict(durability="maybe"), dict(flush_interval=0), dict(snapshot_format="tar"),
                 dict(capture_console="yes please"), dict(on_init_error="ignore")]
        for kw in cases:
            with self.subTest(**{k: str(v) for k, v in kw.items()}):
                with self.assertRaises(ValueError):
                    rn.init(storage=s, **kw)

    def test_tqdm_mode_message(self):
        with self.assertRaisesRegex(ValueError, "tqdm_mode must be one of 'smart', 'all', 'none'"):
            rn.init(storage=str(self.store), tqdm_mode="x")

    def test_unwritable_storage_raises_os_error(self):
        blocker = self.store / "file"
        blocker.write_text("not a directory")
        with self.assertRaises(OSError):
            rn.init(storage=str(blocker / "root"))

    def test_on_init_error_noop(self):
        blocker = self.store / "file"
        blocker.write_text("x")
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            run = rn.init(storage=str(blocker / "root"), on_init_error="noop")
        self.assertIsInstance(run, NoOpRun)
        self.assertTrue(any("init failed" in str(x.message) for x in w))

    def test_custom_id_taken(self):
        self.init(run_id="same")
        with self.assertRaises(OSError):
            rn.init(storage=str(self.store), run_id="same")

    def test_primary_metric_bad_mode(self):
        run = self.init()
        with self.assertRaises(ValueError):
            run.set_primary_metric("acc", mode="maximum")

    def test_env_defaults(self):
        with mock.patch.dict(os.environ, {"RUNICORN_PROJECT": "envproj", "RUNICORN_TAGS": "x, y",
                                          "RUNICORN_RUN_ID": "env-id"}):
            run = self.init()
        self.assertEqual(run.path, "envproj")
        self.assertEqual(run.id, "env-id")
        self.assertEqual(read_json(run.run_dir / "meta.json")["tags"], ["x", "y"])

    def test_storage_from_runicorn_dir(self):
        with mock.patch.dict(os.environ, {"RUNICORN_DIR": str(self.store / "envroot")}):
            run = rn.init()
            self._runs.append(run)
        self.assertEqual(run.storage_root, (self.store / "envroot").resolve())


class ActiveRunTest(StoreTest):
    def test_active_run_lifecycle(self):
        a = self.init()
        self.assertIs(rn.get_active_run(), a)
        b = self.init()
        self.assertIs(rn.get_active_run(), b)
        self.assertFalse(a.finished)  # a new init does not finish the previous run
        b.finish()
        self.assertIsNone(rn.get_active_run())

    def test_module_level_helpers(self):
        run = self.init()
        rn.log({"a": 1.0})
        rn.log(b=2.0, step=5)
        rn.log_text("module text")
        rn.summary({"s": 1})
        rn.finish()
        self.assertTrue(run.finished)
        ev = read_events(run.run_dir)
        self.assertEqual([e["data"]["global_step"] for e in ev], [1, 5])
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            rn.log({"a": 1.0})
        self.assertTrue(any("without an active run" in str(x.message) for x in w))


class ContextManagerTest(StoreTest):
    def test_exception_marks_failed_and_propagates(self):
        with self.assertRaises(KeyError):
            with self.init() as run:
                run.log({"a": 1})
                raise KeyError("boom")
        st = read_json(run.run_dir / "status.json")
        self.assertEqual(st["status"], "failed")
        self.assertEqual(st["exit_reason"], "exception")
        self.assertEqual(st["error"], {"type": "KeyError", "message": "'boom'"})

    def test_keyboard_interrupt_marks_failed(self):
        with self.assertRaises(KeyboardInterrupt):
            with self.init() as run:
                raise KeyboardInterrupt
        self.assertEqual(read_json(run.run_dir / "status.json")["status"], "failed")

    def test_normal_exit_finishes(self):
        with self.init() as run:
            run.log({"a": 1})
        self.assertEqual(read_json(run.run_dir / "status.json")["status"], "finished")
        self.assertEqual(len(read_events(run.run_dir)), 1)


class DisabledTest(StoreTest):
    def check_noop(self, run):
        self.assertIsInstance(run, NoOpRun)
        self.assertEqual(run.id, "disabled")
        self.assertIsNone(rn.get_active_run())
        # Every method of Run, with the same arguments.
        run.log({"a": 1}, step=1, stage="x", extra=2)
        run.log_text("t")
        self.assertEqual(run.log_image("k", b"x", step=1, caption="c"), "")
        run.log_config(args={"a": 1}, extra={}, config_files=["f"])
        run.log_dataset("d", "/data", context="train", save=False)
        run.log_pretrained("m", path_or_uri="/m", save=False)
        run.summary({"a": 1})
        run.set_primary_metric("acc", mode="max")
        self.assertEqual(run.scan_outputs_once(output_dirs=["."]),
                         {"scanned": 0, "archived": 0, "changed": 0})
        run.watch_outputs(output_dirs=["."])
        run.stop_outputs_watch()
        self.assertTrue(run.flush())
        run.add_tags("x")
        self.assertIsNone(run.log_artifact(object()))
        import logging
        logging.getLogger("noop-test").addHandler(run.get_logging_handler())
        logging.getLogger("noop-test").warning("dropped")
        for attr in ("run_dir", "storage_root", "runs_dir", "media_dir", "workspace_root"):
            self.assertIsNone(getattr(run, attr))
        self.assertEqual(run.tags, [])
        self.assertFalse(run.finished)
        self.assertEqual(run.stats["records_logged"], 0)
        with run as r:
            self.assertIs(r, run)
        run.finish()
        self.assertFalse((self.store / "noop").exists())

    def test_runicorn_on_env(self):
        for value in ["0", "false", "No", "n", "OFF"]:
            with self.subTest(value=value):
                with mock.patch.dict(os.environ, {"RUNICORN_ON": value}):
                    self.assertFalse(rn.is_enabled())
                    self.check_noop(rn.init(storage=str(self.store / "noop"), path="p"))
        with mock.patch.dict(os.environ, {"RUNICORN_ON": "maybe"}):
            self.assertTrue(rn.is_enabled())

    def test_runicorn_mode_env(self):
        with mock.patch.dict(os.environ, {"RUNICORN_MODE": "disabled"}):
            self.assertFalse(rn.is_enabled())
            self.check_noop(rn.init(storage=str(self.store / "noop")))
        with mock.patch.dict(os.environ, {"RUNICORN_MODE": "disabled", "RUNICORN_ON": "1"}):
            self.assertTrue(rn.is_enabled())  # RUNICORN_ON wins

    def test_set_enabled_and_block(self):
        real = self.init()
        rn.set_enabled(False)
        self.check_noop(rn.init(storage=str(self.store / "noop")))
        rn.set_enabled(True)
        with rn.enabled(False):
            self.assertFalse(rn.is_enabled())
            self.assertIsInstance(rn.init(storage=str(self.store)), NoOpRun)
        self.assertTrue(rn.is_enabled())  # the previous override (True) is back
        rn.reset_enabled()
        with mock.patch.dict(os.environ, {"RUNICORN_ON": "0"}):
            with rn.enabled(True):
                run = self.init()
                self.assertNotIsInstance(run, NoOpRun)
            self.assertFalse(rn.is_enabled())  # no override again: the env decides
        real.finish()

    def test_noop_from_enabled_module(self):
        import runicorn.enabled as en_mod  # noqa: F401
        from runicorn.enabled import NoOpRun as N
        self.assertIs(N, rn.NoOpRun)
        self.assertIs(rn.enabled.NoOpRun, rn.NoOpRun)


if __name__ == "__main__":
    unittest.main()
