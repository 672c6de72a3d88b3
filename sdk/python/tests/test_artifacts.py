"""Artifacts (SDK.md §4.15, §4.7, FORMAT.md §7.6): rn.Artifact, run.log_artifact,
run.use_artifact, rn.artifact, ArtifactVersion, NoOpRun.use_artifact."""

import os
import pathlib
import stat
import threading
import unittest
import warnings

import runicorn as rn
from runicorn.enabled import NoOpRun

from helpers import StoreTest, read_json, run_script


class ArtifactTest(StoreTest):
    def setUp(self):
        super().setUp()
        self.work = self.store.parent / (self.store.name + "-work")
        self.work.mkdir()
        self.addCleanup(self._rm_work)

    def _rm_work(self):
        import shutil
        shutil.rmtree(self.work, ignore_errors=True)

    def file(self, rel, text):
        p = self.work / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
        return p

    def model(self, text, name="resnet50"):
        a = rn.Artifact(name, type="model", description="fine-tune", metadata={"acc": 0.81})
        a.add_file(self.file("ckpt/best.pth", text), name="model.pth")
        return a

    def test_exports(self):
        for name in ("Artifact", "ArtifactVersion", "artifact", "use_artifact"):
            self.assertIn(name, rn.__all__)
            self.assertTrue(hasattr(rn, name))

    def test_log_versions_dedup_and_attributes(self):
        run = self.init(path="cv/resnet")
        v1 = run.log_artifact(self.model("w1"), aliases=["production"])
        self.assertIsInstance(v1, rn.ArtifactVersion)
        self.assertEqual((v1.name, v1.type, v1.version), ("resnet50", "model", 1))
        self.assertEqual(str(v1), "resnet50:v1")
        self.assertEqual(v1.aliases, ["production"])
        self.assertEqual(v1.description, "fine-tune")
        self.assertEqual(v1.metadata, {"acc": 0.81})
        self.assertEqual((v1.file_count, v1.total_size_bytes), (1, 2))
        self.assertEqual(len(v1.digest), 64)
        self.assertGreater(v1.created_at, 0)
        self.assertFalse(v1.deduplicated)
        self.assertEqual(v1.produced_by["run_id"], run.id)
        self.assertEqual(v1.produced_by["path"], "cv/resnet")
        self.assertEqual(v1.files(), [{"path": "model.pth", "size_bytes": 2,
                                       "sha256": v1.files()[0]["sha256"]}])

        same = run.log_artifact(self.model("w1"))
        self.assertEqual(same.version, 1)
        self.assertTrue(same.deduplicated)
        v2 = run.log_artifact(self.model("w2"), aliases="best")
        self.assertEqual(str(v2), "resnet50:v2")
        self.assertEqual(v2.aliases, ["best"])

        doc = read_json(run.run_dir / "artifacts.json")
        self.assertEqual([e["version"] for e in doc["logged"]], [1, 1, 2])
        self.assertEqual([e["deduplicated"] for e in doc["logged"]], [False, True, False])
        self.assertEqual(doc["used"], [])
        vj = read_json(self.store / "artifacts" / "resnet50" / "v2" / "version.json")
        self.assertEqual(vj["produced_by"]["run_id"], run.id)

    def test_use_artifact_records_use_and_artifact_does_not(self):
        producer = self.init(path="p")
        producer.log_artifact(self.model("data", name="imagenet-mini"), aliases=["production"])
        producer.finish()
        run = self.init(path="c")
        d = run.use_artifact("imagenet-mini:production")
        self.assertEqual(str(d), "imagenet-mini:v1")
        used = read_json(run.run_dir / "artifacts.json")["used"]
        self.assertEqual(len(used), 1)
        self.assertEqual(used[0]["requested"], "imagenet-mini:production")
        self.assertEqual(used[0]["digest"], d.digest)
        for ref in ("imagenet-mini", "imagenet-mini:v1", "imagenet-mini:latest"):
            self.assertEqual(rn.artifact(ref, storage=self.store).version, 1)
        self.assertEqual(len(read_json(run.run_dir / "artifacts.json")["used"]), 1)
        # Module level: the active run.
        self.assertEqual(rn.use_artifact("imagenet-mini").version, 1)
        self.assertEqual(len(read_json(run.run_dir / "artifacts.json")["used"]), 2)

    def test_download_links_copies_and_overwrite(self):
        run = self.init()
        v = run.log_artifact(self.model("weights"))
        dest = v.download(self.work / "linked")
        self.assertIsInstance(dest, pathlib.Path)
        self.assertEqual(dest, self.work / "linked")
        f = dest / "model.pth"
        self.assertEqual(f.read_text(), "weights")
        st = f.stat()
        self.assertGreaterEqual(st.st_nlink, 2)
        self.assertEqual(st.st_mode & 0o222, 0)

        copies = v.download(str(self.work / "copies"), link=False)
        c = copies / "model.pth"
        self.assertEqual(c.stat().st_nlink, 1)
        self.assertTrue(c.stat().st_mode & stat.S_IWUSR)
        c.write_text("edited")
        self.assertEqual(f.read_text(), "weights")
        with self.assertRaises(FileExistsError):
            v.download(copies, link=False)
        v.download(copies, link=False, overwrite=True)
        self.assertEqual(c.read_text(), "weights")
        v.download(copies)  # identical content: kept

        one = v.get_path("model.pth", self.work / "one")
        self.assertEqual(one, self.work / "one" / "model.pth")
        self.assertEqual(one.read_text(), "weights")
        with self.assertRaises(LookupError):
            v.get_path("missing.pth", self.work / "one")
        with self.assertRaises(ValueError):
            v.get_path("../model.pth", self.work / "one")

        old = os.getcwd()
        os.chdir(self.work)
        try:
            default = v.download()
        finally:
            os.chdir(old)
        self.assertEqual(default, self.work / "artifacts" / "resnet50-v1")

    def test_download_confined_to_dest(self):
        run = self.init()
        a = rn.Artifact("nested", "data")
        self.file("d/sub/x.txt", "x")
        a.add_dir(self.work / "d")
        v = run.log_artifact(a)
        outside = self.work / "outside"
        outside.mkdir()
        dest = self.work / "dest"
        dest.mkdir()
        os.symlink(outside, dest / "sub")
        with self.assertRaises(ValueError):
            v.download(dest)
        self.assertEqual(list(outside.iterdir()), [])

    def test_aliases(self):
        run = self.init()
        v1 = run.log_artifact(self.model("a"))
        v2 = run.log_artifact(self.model("b"), aliases=["production"])
        v1.set_alias("production")  # moved
        self.assertEqual(v1.aliases, ["production"])
        self.assertEqual(rn.artifact("resnet50:production", storage=self.store).version, 1)
        for bad in ("latest", "v7", "1x"):
            with self.assertRaises(ValueError):
                v1.set_alias(bad)
            with self.assertRaises(ValueError):
                run.log_artifact(self.model("c"), aliases=[bad])
        with self.assertRaises(ValueError):
            v2.remove_alias("production")  # points at v1
        v1.remove_alias("production")
        self.assertEqual(v1.aliases, [])
        with self.assertRaises(LookupError):
            v1.remove_alias("production")
        with self.assertRaises(LookupError):
            rn.artifact("resnet50:production", storage=self.store)

    def test_bad_inputs(self):
        for name in ("", "a/b", "a:b", ".x", "x" * 129):
            with self.assertRaises(ValueError):
                rn.Artifact(name, "model")
        with self.assertRaises(ValueError):
            rn.Artifact("ok", "bad type")
        a = rn.Artifact("ok", "model")
        with self.assertRaises(FileNotFoundError):
            a.add_file(self.work / "missing.bin")
        with self.assertRaises(FileNotFoundError):
            a.add_dir(self.work / "missing")
        f = self.file("f.bin", "f")
        with self.assertRaises(ValueError):
            a.add_file(f, name="../f.bin")
        a.add_file(f)
        with self.assertRaises(ValueError):
            a.add_file(f, name="f.bin")
        with self.assertRaises(ValueError):
            a.set_metadata([1, 2])

        run = self.init()
        with self.assertRaises(ValueError):
            run.log_artifact(rn.Artifact("empty", "model"))
        with self.assertRaises(TypeError):
            run.log_artifact("not an artifact")
        gone = rn.Artifact("gone", "data")
        g = self.file("gone.txt", "g")
        gone.add_file(g)
        g.unlink()
        with self.assertRaises(FileNotFoundError):
            run.log_artifact(gone)
        with self.assertRaises(LookupError):
            run.use_artifact("unknown")
        run.log_artifact(a)
        with self.assertRaises(LookupError):
            run.use_artifact("ok:v9")
        with self.assertRaises(ValueError):
            run.use_artifact("ok:v0")
        with self.assertRaises(ValueError):
            rn.artifact("ok:", storage=self.store)
        with self.assertRaises(LookupError):
            rn.artifact("nothing:latest", storage=self.store)
        self.assertEqual(read_json(run.run_dir / "artifacts.json")["used"], [])

    def test_threads_get_distinct_versions(self):
        run = self.init()
        versions, errors = [], []

        def log(i):
            try:
                a = rn.Artifact("shared", "model")
                a.add_file(self.file(f"t{i}.bin", f"content {i}"), name="w.bin")
                versions.append(run.log_artifact(a).version)
            except Exception as e:  # noqa: BLE001
                errors.append(e)

        threads = [threading.Thread(target=log, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(sorted(versions), [1, 2, 3, 4])

    def test_storage_failure_warns_and_returns_none(self):
        run = self.init()
        run.finish()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            self.assertIsNone(run.log_artifact(self.model("x")))
        self.assertTrue(any("log_artifact" in str(x.message) for x in w))

    def test_noop_run(self):
        run = self.init()
        run.log_artifact(self.model("w"))
        run.finish()
        with rn.enabled(False):
            noop = rn.init(storage=str(self.store))
            self.assertIsInstance(noop, NoOpRun)
            self.assertIsNone(noop.log_artifact(self.model("other")))
            v = noop.use_artifact("resnet50")
            self.assertEqual(str(v), "resnet50:v1")
            with self.assertRaises(LookupError):
                noop.use_artifact("unknown")
            with self.assertRaises(LookupError):
                noop.use_artifact("bad/name")
        self.assertEqual(len(list((self.store / "runs").rglob("artifacts.json"))), 1)

    def test_without_dedup_plugin_warns(self):
        # A package copy whose plugin folder lacks the dedup plugin.
        code = """
            import importlib.util, os, pathlib, shutil, sys, tempfile, warnings
            # Not imported from here: its library would stay loaded (one SONAME per process).
            src = pathlib.Path(importlib.util.find_spec("runicorn").origin).parent
            tmp = pathlib.Path(tempfile.mkdtemp())
            shutil.copytree(src, tmp / "runicorn", symlinks=True)
            shutil.rmtree(tmp / "runicorn" / "plugins" / "dedup")
            sys.path.insert(0, str(tmp))
            import runicorn as rn
            assert pathlib.Path(rn.__file__).parent == tmp / "runicorn", rn.__file__
            run = rn.init(storage=str(tmp / "store"))
            f = tmp / "w.bin"
            f.write_text("w")
            a = rn.Artifact("m", "model")
            a.add_file(f)
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                assert run.log_artifact(a) is None
                assert run.use_artifact("m") is None
            assert any("dedup plugin" in str(x.message) for x in w), [str(x.message) for x in w]
            try:
                rn.artifact("m", storage=str(tmp / "store"))
            except OSError as e:
                assert "dedup plugin" in str(e)
            else:
                raise AssertionError("rn.artifact did not fail")
            run.log({"loss": 1.0})
            run.finish()
            shutil.rmtree(tmp)
            print("ok")
        """
        r = run_script(code)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("ok", r.stdout)


if __name__ == "__main__":
    unittest.main()
