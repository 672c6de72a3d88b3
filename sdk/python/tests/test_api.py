"""The rest of the v0.6 API: primary metric, summary, config, images, datasets, pretrained,
tags, environment, snapshot_workspace, MetricLogger (SDK.md §4.4, §4.10, §4.12)."""

import argparse
import dataclasses
import io
import math
import pathlib
import struct
import unittest
import warnings
import zipfile
import zlib

import runicorn as rn
from runicorn.log_compat.torchvision import MetricLogger, SmoothedValue, TorchvisionMetricLogger

from helpers import StoreTest, read_events, read_json, read_logs

PNG_1x1 = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
           b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
           b"\x00\x00\x00\x00IEND\xaeB`\x82")


class FakeArray:
    """A tiny numpy-like uint8 array (shape, dtype.kind, reshape(-1).tolist())."""

    class _DType:
        kind = "u"

    def __init__(self, rows):
        self._rows = rows
        h, w = len(rows), len(rows[0])
        self.shape = (h, w, len(rows[0][0])) if isinstance(rows[0][0], list) else (h, w)
        self.dtype = self._DType()

    def reshape(self, *_):
        flat = []
        for r in self._rows:
            for px in r:
                flat.extend(px if isinstance(px, list) else [px])

        class _Flat:
            def tolist(self_inner):
                return flat
        return _Flat()


def png_pixels(data):
    """Decodes our own unfiltered 8-bit PNGs: (width, height, color type, raw rows)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        tag, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if tag == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif tag == b"IDAT":
            idat += body
        pos += 12 + n
    return ihdr[0], ihdr[1], ihdr[3], zlib.decompress(idat)


class PrimaryAndSummaryTest(StoreTest):
    def test_best_metric_max_ignores_nan_and_bool(self):
        run = self.init()
        run.set_primary_metric("acc", mode="max")
        run.log({"acc": float("nan")})        # step 1: ignored (v0.6 bug fixed)
        run.log({"acc": 0.5})                 # step 2
        run.log({"acc": True})                # ignored
        run.log({"acc": 0.9}, step=10)        # best
        run.log({"acc": 0.7})                 # 11
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            run.summary({"final": 0.7, "nested": {"a": [1, 2]}, "inf": math.inf})
        run.finish()
        s = read_json(run.run_dir / "summary.json")
        self.assertEqual(s["best_metric_value"], 0.9)
        self.assertEqual(s["best_metric_step"], 10)
        self.assertEqual(s["best_metric_name"], "acc")
        self.assertEqual(s["best_metric_mode"], "max")
        self.assertEqual(s["final"], 0.7)
        self.assertEqual(s["nested"], {"a": [1, 2]})
        self.assertEqual(s["inf"], math.inf)  # kept as Python's Infinity token

    def test_best_metric_min(self):
        run = self.init()
        run.set_primary_metric("loss", "min")
        for v in [3.0, 1.0, 2.0]:
            run.log({"loss": v})
        run.finish()
        s = read_json(run.run_dir / "summary.json")
        self.assertEqual((s["best_metric_value"], s["best_metric_step"]), (1.0, 2))

    def test_summary_merges_and_converts(self):
        run = self.init()
        run.summary({"a": 1, "np": type("S", (), {"item": lambda self: 2.5})()})
        run.summary({"b": pathlib.Path("/x"), "a": 3})
        run.flush()
        s = read_json(run.run_dir / "summary.json")
        self.assertEqual(s, {"a": 3, "np": 2.5, "b": "/x"})


class ConfigTest(StoreTest):
    def test_log_config_forms(self):
        run = self.init()
        ns = argparse.Namespace(lr=0.1, bs=32, path=pathlib.Path("/data"))
        run.log_config(args=ns, extra={"model": "r50"}, config_files=["cfg.yaml"])
        run.flush()
        cfg = read_json(run.run_dir / "assets.json")["config"]
        self.assertEqual(cfg, {"args": {"lr": 0.1, "bs": 32, "path": "/data"},
                               "extra": {"model": "r50"}, "config_files": ["cfg.yaml"]})

        @dataclasses.dataclass
        class Cfg:
            lr: float = 0.01
            layers: tuple = (1, 2)

        run.log_config(args=Cfg())
        run.flush()
        cfg = read_json(run.run_dir / "assets.json")["config"]
        self.assertEqual(cfg["args"], {"lr": 0.01, "layers": [1, 2]})
        self.assertEqual(cfg["extra"], {"model": "r50"})  # kept

    def test_init_config_argument(self):
        run = self.init(config={"seed": 1})
        run.flush()
        self.assertEqual(read_json(run.run_dir / "assets.json")["config"]["args"], {"seed": 1})


class ImageTest(StoreTest):
    def test_bytes_path_and_array(self):
        run = self.init()
        p1 = run.log_image("sample", PNG_1x1, step=3, caption="cap")
        self.assertRegex(p1, r"^media/\d+_[0-9a-f]{6}_sample\.png$")
        f = self.store / "img.png"
        f.write_bytes(PNG_1x1)
        p2 = run.log_image("from/path", str(f))
        self.assertTrue(p2.startswith("media/"))
        arr = FakeArray([[[255, 0, 0], [0, 255, 0]], [[0, 0, 255], [1, 2, 3]]])
        p3 = run.log_image("array", arr)
        w, h, color, raw = png_pixels((run.run_dir / p3).read_bytes())
        self.assertEqual((w, h, color), (2, 2, 2))
        self.assertEqual(raw, b"\x00" + bytes([255, 0, 0, 0, 255, 0]) + b"\x00" + bytes([0, 0, 255, 1, 2, 3]))
        run.log({"x": 1})
        run.flush()
        self.assertEqual((run.run_dir / p1).read_bytes(), PNG_1x1)
        images = read_events(run.run_dir, "image")
        self.assertEqual([e["data"]["key"] for e in images], ["sample", "from/path", "array"])
        self.assertEqual(images[0]["data"]["step"], 3)
        self.assertEqual(images[0]["data"]["caption"], "cap")
        self.assertIsNone(images[1]["data"]["step"])
        self.assertEqual(images[0]["data"]["global_step"], 0)  # images do not move the counter
        self.assertEqual(read_events(run.run_dir)[0]["data"]["global_step"], 1)

    def test_bad_images_warn_and_return_empty(self):
        run = self.init()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            self.assertEqual(run.log_image("k", "/does/not/exist.png"), "")
            self.assertEqual(run.log_image("k2", 12345), "")
        self.assertEqual(len(w), 2)
        self.assertGreaterEqual(run.stats["invalid_values"], 2)


class AssetsTest(StoreTest):
    def test_log_dataset_and_pretrained(self):
        run = self.init()
        data = self.store / "ds"
        data.mkdir()
        (data / "a.txt").write_text("hello")
        run.log_config(args={"k": 1})
        run.log_dataset("ds", str(data), description="local")
        run.log_dataset("remote", "s3://bucket/x")
        run.log_pretrained("bert", path_or_uri="hf://bert-base", source_type="hf")
        run.flush()
        assets = read_json(run.run_dir / "assets.json")
        self.assertEqual(assets["config"]["args"], {"k": 1})  # not lost by the Python edit
        ds = assets["datasets"]
        self.assertEqual(ds[0]["name"], "ds")
        self.assertEqual(ds[0]["uri"], str(data))
        self.assertEqual(ds[0]["fingerprint"]["file_count"], 1)
        self.assertEqual(ds[0]["fingerprint"]["total_size_bytes"], 5)
        self.assertFalse(ds[0]["saved"])
        self.assertEqual(ds[1]["uri"], "s3://bucket/x")  # verbatim (v0.6 mangled it)
        self.assertIsNone(ds[1]["fingerprint"])
        self.assertEqual(assets["pretrained"][0]["path_or_uri"], "hf://bert-base")
        self.assertEqual(assets["pretrained"][0]["source_type"], "hf")

    def test_set_up_argument_errors(self):
        run = self.init()
        with self.assertRaises(ValueError):
            run.log_pretrained("m", save=True)
        data = self.store / "big"
        data.mkdir()
        (data / "f").write_bytes(b"x" * 100)
        with self.assertRaisesRegex(ValueError, "dataset too large to archive"):
            run.log_dataset("big", str(data), save=True, max_archive_bytes=10)

    def test_add_tags(self):
        run = self.init(tags=["a"])
        run.add_tags("b", "a", " ")
        self.assertEqual(read_json(run.run_dir / "meta.json")["tags"], ["a", "b"])
        self.assertEqual(run.tags, ["a", "b"])

    def test_capture_env(self):
        run = self.init(capture_env=True)
        env = read_json(run.run_dir / "environment.json")
        self.assertIn("python", env)

    def test_snapshot_workspace(self):
        ws = self.store / "ws"
        (ws / "pkg").mkdir(parents=True)
        (ws / "train.py").write_text("print(1)")
        (ws / "pkg" / "m.py").write_text("x = 1")
        (ws / "pkg" / "skip.log").write_text("no")
        (ws / ".rnignore").write_text("*.log\n")
        (ws / "__pycache__").mkdir()
        (ws / "__pycache__" / "c.pyc").write_bytes(b"0")
        out = self.store / "snap.zip"
        r = rn.snapshot_workspace(ws, out)
        self.assertEqual(r["format"], "zip")
        self.assertEqual(r["file_count"], 3)
        with zipfile.ZipFile(out) as z:
            self.assertEqual(sorted(z.namelist()), [".rnignore", "pkg/m.py", "train.py"])
        with self.assertRaisesRegex(ValueError, "code snapshot too large"):
            rn.snapshot_workspace(ws, out, max_files=1)
        ws2 = self.store / "ws2"
        ws2.mkdir()
        rn.snapshot_workspace(ws2, self.store / "s2.zip")
        self.assertFalse((ws2 / ".rnignore").exists())  # never created


class MetricLoggerTest(StoreTest):
    def test_update_logs_one_step_per_call(self):
        run = self.init()
        ml = MetricLogger(delimiter="  ")
        ml.update(loss=type("T", (), {"item": lambda self: 0.5})(), acc=0.25)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            ml.update(loss=0.3, name="not a number")
        self.assertTrue(any("not a number" in str(x.message) for x in w))
        self.assertAlmostEqual(ml.loss.global_avg, 0.4)
        self.assertEqual(ml.acc.value, 0.25)
        self.assertIn("loss:", str(ml))
        ml.synchronize_between_processes()
        run.flush()
        ev = read_events(run.run_dir)
        self.assertEqual([e["data"]["global_step"] for e in ev], [1, 2])
        self.assertEqual(ev[0]["data"]["loss"], 0.5)
        self.assertNotIn("name", ev[1]["data"])
        self.assertIs(TorchvisionMetricLogger, MetricLogger)

    def test_smoothed_value_and_log_every(self):
        sv = SmoothedValue(window_size=3, fmt="{median:.1f}/{max:.1f}/{avg:.1f}")
        for v in [1, 2, 3, 10]:
            sv.update(v)
        self.assertEqual((sv.median, sv.max, sv.value), (3, 10, 10))
        self.assertEqual(sv.global_avg, 4.0)
        self.assertEqual(str(sv), "3.0/10.0/5.0")
        ml = MetricLogger()
        buf = io.StringIO()
        import contextlib
        with contextlib.redirect_stdout(buf):
            items = list(ml.log_every(range(5), 2, header="Epoch: [0]"))
        self.assertEqual(items, [0, 1, 2, 3, 4])
        self.assertIn("Epoch: [0] Total time:", buf.getvalue())
        self.assertIn("[0/5]", buf.getvalue())

    def test_without_active_run_only_meters(self):
        ml = MetricLogger()
        ml.update(x=1.0)
        self.assertEqual(ml.x.count, 1)


class VersionTest(unittest.TestCase):
    def test_runs_under_the_interpreter_ctest_named(self):
        import os
        import sys
        named = os.environ.get("RUNICORN_TEST_PYTHON")
        if not named or not os.path.isabs(named):
            self.skipTest("not run by ctest")
        with open(named, "rb") as f:
            is_binary = f.read(4) == b"\x7fELF"
        if not is_binary:
            self.skipTest(f"{named} is a launcher script (e.g. a pyenv shim)")
        self.assertEqual(os.path.realpath(sys.executable), os.path.realpath(named))

    def test_versions(self):
        self.assertEqual(rn.__compat_version__, "0.6.0")
        self.assertRegex(rn.__version__, r"^\d+\.\d+\.\d+")


if __name__ == "__main__":
    unittest.main()
