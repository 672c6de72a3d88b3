"""Set-up calls of a run (SDK.md §4.4). ``log_dataset``, ``log_pretrained``, code snapshots and
the outputs scanner run on the native side (archive copies through the dedup plugin, GIL
released); ``add_tags`` and ``capture_env`` edit the run's JSON files from Python.

Every edit is the locked read-modify-write of FORMAT.md §4.6 / §7.3, the protocol the storage
plugin and Runicorn v0.6 also follow: ``flock`` on ``<file>.lock``, read, change, write a temp
file, fsync, rename. So these edits never lose a concurrent update by the background writer.
Argument errors raise (v0.6 behaviour); storage failures after init only warn.
"""

from __future__ import annotations

import fcntl
import json
import os
import pathlib
import platform
import sys
import time
import warnings
from typing import Any, Callable, Dict, Iterable, Optional, Tuple

def _warn(run: Any, kind: str, message: str) -> None:
    try:
        run._warn_once(kind, None, message)
    except Exception:
        try:
            warnings.warn("runicorn: " + message, RuntimeWarning, stacklevel=3)
        except Exception:
            pass


def update_json(path: pathlib.Path, change: Callable[[Any], Any], default: Any) -> None:
    """Locked read-modify-write of one JSON file (temp + fsync + rename)."""
    lock_path = str(path) + ".lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = default
        data = change(data)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=True))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _assets_default() -> Dict[str, Any]:
    return {"code": {}, "config": {}, "datasets": [], "pretrained": [], "outputs": []}


def _native_call(run: Any, op: str, name: Optional[str], target: Optional[str],
                 options: Dict[str, Any]) -> Tuple[int, str, Optional[str]]:
    """One asset call on the native side (GIL released there)."""
    from . import _native
    return _native._assets_call(run, op, name, target, json.dumps(options, allow_nan=True))


def _uri_arg(v: Any) -> Tuple[Optional[str], Optional[Dict[str, Any]]]:
    """(string for the native side, dict stored as given)."""
    if isinstance(v, dict):
        return None, v
    return (v if isinstance(v, str) else os.fspath(v)), None


def _check(run: Any, what: str, rc: int, msg: str) -> None:
    from . import _native
    if rc == 0:
        return
    if rc == _native.RN_E_INVALID_ARGUMENT:
        raise ValueError(msg)
    _warn(run, what, f"{what} failed: {msg}")


def log_dataset(run: Any, name: str, root_or_uri: Any, *, context: str = "train",
                save: bool = False, description: Optional[str] = None, force_save: bool = False,
                max_archive_bytes: int = 5 << 30, max_archive_files: int = 2_000_000) -> None:
    if not isinstance(name, str) or not name:
        raise ValueError(f"dataset name must be a non-empty string, got {name!r}")
    target, as_dict = _uri_arg(root_or_uri)
    opts = {"context": str(context), "save": bool(save), "description": description,
            "force_save": bool(force_save), "max_archive_bytes": int(max_archive_bytes),
            "max_archive_files": int(max_archive_files)}
    if as_dict is not None:
        opts["uri_object"] = as_dict  # stored as given (FORMAT.md §4.6); nothing to archive
        target = ""
    rc, msg, _ = _native_call(run, "dataset", name, target, opts)
    _check(run, "log_dataset", rc, msg)


def log_pretrained(run: Any, name: str, *, path_or_uri: Any = None, save: bool = False,
                   source_type: str = "unknown", description: Optional[str] = None,
                   force_save: bool = False, max_archive_bytes: int = 5 << 30,
                   max_archive_files: int = 2_000_000) -> None:
    if not isinstance(name, str) or not name:
        raise ValueError(f"pretrained name must be a non-empty string, got {name!r}")
    if save and path_or_uri is None:
        raise ValueError("log_pretrained(save=True) needs path_or_uri")
    p = None if path_or_uri is None else _uri_arg(path_or_uri)[0]
    opts = {"path_or_uri": p, "save": bool(save), "source_type": str(source_type),
            "description": description, "force_save": bool(force_save),
            "max_archive_bytes": int(max_archive_bytes),
            "max_archive_files": int(max_archive_files)}
    rc, msg, _ = _native_call(run, "pretrained", name, None, opts)
    _check(run, "log_pretrained", rc, msg)


def add_tags(run: Any, tags: Iterable[Any]) -> None:
    new = [str(t).strip() for t in tags if str(t).strip()]

    def change(meta: Any) -> Any:
        if not isinstance(meta, dict):
            return meta
        cur = meta.get("tags")
        cur = [t for t in cur if isinstance(t, str)] if isinstance(cur, list) else []
        for t in new:
            if t not in cur:
                cur.append(t)
        meta["tags"] = cur
        return meta

    try:
        update_json(run.run_dir / "meta.json", change, None)
        for t in new:
            if t not in run.tags:
                run.tags.append(t)
    except OSError as e:
        _warn(run, "tags", f"add_tags could not update meta.json: {e}")


def write_environment(run: Any) -> None:
    """environment.json (FORMAT.md §4.12): interpreter, platform and installed distributions."""
    env: Dict[str, Any] = {
        "captured_at": time.time(),
        "python": {"version": platform.python_version(), "executable": sys.executable,
                   "implementation": platform.python_implementation()},
        "platform": {"system": platform.system(), "release": platform.release(),
                     "machine": platform.machine(), "hostname": platform.node()},
        "argv": list(sys.argv),
    }
    try:
        from importlib import metadata
        env["packages"] = sorted(f"{d.metadata['Name']}=={d.version}"
                                 for d in metadata.distributions() if d.metadata["Name"])
    except Exception:
        env["packages"] = []
    path = run.run_dir / "environment.json"
    tmp = path.with_name(".environment.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(env, f, indent=2, ensure_ascii=False)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _outputs_options(output_dirs: Any, patterns: Any, stable_required: Any, min_age_sec: Any,
                     mode: Any, log_snapshot_interval_sec: Any,
                     state_gc_after_sec: Any) -> Dict[str, Any]:
    if isinstance(output_dirs, (str, os.PathLike)):
        output_dirs = [output_dirs]
    dirs = [os.path.abspath(os.fspath(d)) for d in (output_dirs or [])]
    opts: Dict[str, Any] = {"output_dirs": dirs, "stable_required": int(stable_required),
                            "min_age_sec": float(min_age_sec), "mode": str(mode),
                            "log_snapshot_interval_sec": float(log_snapshot_interval_sec),
                            "state_gc_after_sec": float(state_gc_after_sec)}
    if patterns is not None:
        opts["patterns"] = [str(p) for p in ([patterns] if isinstance(patterns, str) else patterns)]
    return opts


def scan_outputs_once(run: Any, *, output_dirs: Any, patterns: Any = None,
                      stable_required: int = 2, min_age_sec: float = 1.0, mode: str = "rolling",
                      log_snapshot_interval_sec: float = 60.0,
                      state_gc_after_sec: float = 604800) -> Dict[str, Any]:
    """One scan (SDK.md §4.11) → {"run_id", "scanned", "archived", "changed",
    "archived_entries"}."""
    opts = _outputs_options(output_dirs, patterns, stable_required, min_age_sec, mode,
                            log_snapshot_interval_sec, state_gc_after_sec)
    rc, msg, result = _native_call(run, "scan", None, None, opts)
    if rc != 0 or result is None:
        _check(run, "scan_outputs_once", rc, msg)
        return {"run_id": run.id, "scanned": 0, "archived": 0, "changed": 0,
                "archived_entries": []}
    return json.loads(result)


def watch_outputs(run: Any, *, output_dirs: Any, interval_sec: float = 10.0, patterns: Any = None,
                  stable_required: int = 2, min_age_sec: float = 1.0, mode: str = "rolling",
                  log_snapshot_interval_sec: float = 60.0,
                  state_gc_after_sec: float = 604800) -> None:
    """Scans every ``interval_sec`` on a native thread until ``stop_outputs_watch`` or finish."""
    opts = _outputs_options(output_dirs, patterns, stable_required, min_age_sec, mode,
                            log_snapshot_interval_sec, state_gc_after_sec)
    ms = max(1, int(float(interval_sec) * 1000))
    rc, msg, _ = _native_call(run, "watch", None, str(ms), opts)
    if rc != 0:
        _warn(run, "watch_outputs", f"watch_outputs failed: {msg}")


def stop_outputs_watch(run: Any) -> None:
    try:
        _native_call(run, "stop", None, None, {})
    except Exception:  # noqa: BLE001 - a closed run has no watcher
        pass


def snapshot_code(run: Any, *, workspace_root: Any = None, snapshot_format: Optional[str] = None,
                  force_snapshot: bool = False) -> Optional[Dict[str, Any]]:
    """The code snapshot of init(snapshot_code=True) (FORMAT.md §4.9); too large without
    ``force_snapshot`` → ``ValueError("code snapshot too large: ...")``."""
    opts: Dict[str, Any] = {"format": snapshot_format or "manifest", "force": bool(force_snapshot)}
    if workspace_root is not None:
        opts["workspace_root"] = os.path.abspath(os.fspath(workspace_root))
    rc, msg, result = _native_call(run, "snapshot", None, None, opts)
    if rc != 0:
        _check(run, "snapshot_code", rc, msg)
        return None
    return json.loads(result) if result else None
