"""Archive copies, code snapshots and the outputs scanner from Python (SDK.md §4.4, §4.11)."""

import os
import pathlib
import threading
import time
import unittest
import warnings

import runicorn as rn

from helpers import StoreTest, read_json

FIXTURE = pathlib.Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / \
    "runicorn-0.6" / "store"
KITCHEN = FIXTURE / "runs" / "cv" / "resnet" / "20250115_100000_6cefa5"


class SavedAssetsTest(StoreTest):
    def _dataset(self):
        ds = self.store / "ws" / "ds"
        (ds / "labels").mkdir(parents=True)
        (ds / "train.csv").write_bytes(b"a,b\n1,2\n")
        (ds / "labels" / "y.txt").write_bytes(b"cat\n")
        return ds

    def test_dataset_saved_twice_is_stored_once(self):
        ds = self._dataset()
        a = self.init(workspace_root=str(self.store / "ws"))
        a.log_dataset("ds", ds, save=True, description="tiny")
        b = self.init(workspace_root=str(self.store / "ws"))
        b.log_dataset("ds", str(ds), save=True, description="tiny")
        ea = read_json(a.run_dir / "assets.json")["datasets"][0]
        eb = read_json(b.run_dir / "assets.json")["datasets"][0]
        self.assertEqual(ea["fingerprint"],
                         "f104b706af00c73ca29b4868aafb9036e55671c7f46c72a926ae15c67256b684")
        self.assertEqual(ea["fingerprint"], eb["fingerprint"])
        self.assertTrue(ea["saved"])
        blobs = [p for p in (self.store / "archive" / "blobs").rglob("*")
                 if p.is_file() and not p.name.startswith(".")]
        self.assertEqual(len(blobs), 2)
        self.assertTrue(all(os.stat(p).st_nlink == 1 for p in blobs))
        if KITCHEN.exists():
            fx = read_json(KITCHEN / "assets.json")
            self.assertEqual(list(ea), list(fx["datasets"][0]))
            fm = read_json(pathlib.Path(fx["datasets"][0]["manifest_path"].replace(
                "/tmp/runicorn-fixture/store", str(FIXTURE))))
            om = read_json(ea["manifest_path"])
            self.assertEqual(list(om), list(fm))

    def test_pretrained_saved_and_limits(self):
        w = self.store / "w.pth"
        w.write_bytes(b"weights")
        run = self.init()
        run.log_pretrained("init", path_or_uri=w, save=True, source_type="local")
        e = read_json(run.run_dir / "assets.json")["pretrained"][0]
        self.assertEqual(e["fingerprint_kind"], "sha256")
        self.assertTrue(pathlib.Path(e["archive_path"]).is_file())
        ds = self._dataset()
        with self.assertRaisesRegex(ValueError, "too large to archive"):
            run.log_dataset("big", ds, save=True, max_archive_files=1)
        self.assertEqual(read_json(run.run_dir / "assets.json")["datasets"], [])
        run.log_dataset("big", ds, save=True, max_archive_files=1, force_save=True)
        self.assertTrue(read_json(run.run_dir / "assets.json")["datasets"][0]["saved"])

    def test_dict_uri_is_stored_as_given(self):
        run = self.init()
        run.log_dataset("hub", {"repo": "x/y", "rev": "main"})
        self.assertEqual(read_json(run.run_dir / "assets.json")["datasets"][0]["uri"],
                         {"repo": "x/y", "rev": "main"})

    def test_code_snapshot_at_init_honours_rnignore(self):
        ws = self.store / "ws"
        ws.mkdir()
        (ws / "train.py").write_text("print(1)\n")
        (ws / "notes.tmp").write_text("x")
        (ws / ".rnignore").write_text("*.tmp\n")
        run = self.init(workspace_root=str(ws), snapshot_code=True)
        snap = read_json(run.run_dir / "assets.json")["code"]["snapshot"]
        self.assertEqual(snap["format"], "manifest")
        files = sorted(read_json(snap["manifest_path"])["files"])
        self.assertEqual(files, [".rnignore", "train.py"])
        z = self.init(workspace_root=str(ws), snapshot_code=True, snapshot_format="zip")
        zs = read_json(z.run_dir / "assets.json")["code"]["snapshot"]
        self.assertEqual(zs["format"], "zip")
        self.assertEqual(os.stat(zs["archive_path"]).st_ino,
                         os.stat(z.run_dir / "code_snapshot.zip").st_ino)


class OutputsTest(StoreTest):
    def test_scan_rolling_then_stable(self):
        ws = self.store / "ws"
        out = ws / "outputs"
        out.mkdir(parents=True)
        (out / "best.pth").write_bytes(b"v1")
        os.utime(out / "best.pth", (1000, 1000))
        (out / "train.log").write_text("line\n")
        run = self.init(workspace_root=str(ws))
        r1 = run.scan_outputs_once(output_dirs=[out], min_age_sec=0)
        self.assertEqual(set(r1), {"run_id", "scanned", "archived", "changed",
                                   "archived_entries"})
        self.assertEqual(r1["run_id"], run.id)
        self.assertEqual(r1["scanned"], 2)
        self.assertEqual(r1["archived"], 1)  # the log file, at once
        self.assertEqual(r1["archived_entries"][0]["fingerprint_kind"], "stat")
        r2 = run.scan_outputs_once(output_dirs=[out], min_age_sec=0)
        self.assertEqual(r2["archived"], 1)  # best.pth, stable now
        e = r2["archived_entries"][0]
        self.assertEqual(e["key"], "outputs/best.pth")
        self.assertEqual(e["mode"], "rolling")
        self.assertTrue(os.path.isfile(e["archive_path"]))
        r3 = run.scan_outputs_once(output_dirs=[out], min_age_sec=0)
        self.assertEqual(r3["archived"], 0)
        outputs = read_json(run.run_dir / "assets.json")["outputs"]
        self.assertEqual(sorted(o["key"] for o in outputs),
                         ["outputs/best.pth", "outputs/train.log"])
        state = read_json(run.run_dir / ".outputs_state.json")
        self.assertIn("outputs/best.pth", state["items"])

    def test_scan_releases_the_gil_and_watch_stops_at_finish(self):
        out = self.store / "out"
        out.mkdir()
        (out / "a.log").write_text("x\n")
        run = self.init()
        ticks = []
        stop = threading.Event()

        def ticker():
            while not stop.is_set():
                ticks.append(1)
                time.sleep(0.001)

        t = threading.Thread(target=ticker)
        t.start()
        run.watch_outputs(output_dirs=[out], interval_sec=0.02, min_age_sec=0)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            run.watch_outputs(output_dirs=[out])  # one watcher per run
        self.assertTrue(any("watcher" in str(x.message) for x in w))
        deadline = time.time() + 10
        while time.time() < deadline and not read_json(run.run_dir / "assets.json")["outputs"]:
            time.sleep(0.02)
        run.finish()
        stop.set()
        t.join()
        self.assertTrue(read_json(run.run_dir / "assets.json")["outputs"])
        self.assertTrue(ticks)


if __name__ == "__main__":
    unittest.main()
