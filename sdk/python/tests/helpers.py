"""Shared helpers of the Python SDK tests: temp storage roots and run-folder readers."""

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import textwrap
import unittest
import warnings

import runicorn as rn


def read_json(path):
    return json.loads(pathlib.Path(path).read_text(encoding="utf-8"))


def read_events(run_dir, kind="metrics"):
    p = pathlib.Path(run_dir) / "events.jsonl"
    if not p.exists():
        return []
    out = []
    for line in p.read_text(encoding="utf-8").split("\n"):
        if not line:
            continue
        rec = json.loads(line)  # Python's json reads the NaN/Infinity tokens
        if kind is None or rec["type"] == kind:
            out.append(rec)
    return out


def read_logs(run_dir):
    p = pathlib.Path(run_dir) / "logs.txt"
    return p.read_text(encoding="utf-8") if p.exists() else ""


def run_script(code, env_extra=None, timeout=60):
    """Runs `code` in a fresh interpreter (the one running the tests) with the test environment."""
    env = dict(os.environ)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                          capture_output=True, text=True, timeout=timeout)


class StoreTest(unittest.TestCase):
    """Each test gets its own storage root; enabled state and active run are reset."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="rn-py-")
        self.store = pathlib.Path(self._tmp.name)
        rn.reset_enabled()
        self._runs = []

    def tearDown(self):
        for r in self._runs:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    r.finish()
            except Exception:
                pass
        rn.reset_enabled()
        self._tmp.cleanup()

    def init(self, **kw):
        kw.setdefault("storage", str(self.store))
        run = rn.init(**kw)
        self._runs.append(run)
        return run
