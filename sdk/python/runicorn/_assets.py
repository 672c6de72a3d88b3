"""Set-up calls that edit the run's JSON files from Python (SDK.md §4.4): ``log_dataset``,
``log_pretrained``, ``add_tags`` and ``capture_env``.

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
import re
import sys
import time
import warnings
from typing import Any, Callable, Dict, Iterable, Optional

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


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


def _local_fingerprint(p: str) -> Optional[Dict[str, Any]]:
    try:
        st = os.stat(p)
    except OSError:
        return None
    if os.path.isfile(p):
        return {"size_bytes": st.st_size, "mtime": st.st_mtime}
    count = 0
    total = 0
    latest = st.st_mtime
    for root, _dirs, files in os.walk(p):
        for name in files:
            try:
                s = os.stat(os.path.join(root, name))
            except OSError:
                continue
            count += 1
            total += s.st_size
            latest = max(latest, s.st_mtime)
    return {"mtime": latest, "file_count": count, "total_size_bytes": total}


def _size_of(p: str) -> tuple:
    if os.path.isfile(p):
        return os.path.getsize(p), 1
    total = count = 0
    for root, _dirs, files in os.walk(p):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
                count += 1
            except OSError:
                pass
    return total, count


def _check_limits(p: Optional[str], save: bool, force_save: bool, max_bytes: int,
                  max_files: int, what: str) -> None:
    if not save or force_save or p is None or not os.path.exists(p):
        return
    total, count = _size_of(p)
    if total > max_bytes or count > max_files:
        raise ValueError(f"{what} too large to archive; {count} files, {total} bytes exceed the "
                         f"limits ({max_files} files, {max_bytes} bytes); pass force_save=True "
                         "to archive it anyway")


def _uri_or_path(v: Any) -> Any:
    if isinstance(v, dict):
        return v
    s = os.fspath(v) if not isinstance(v, str) else v
    if _URI.match(s):
        return s
    return os.path.abspath(os.path.expanduser(s))


def log_dataset(run: Any, name: str, root_or_uri: Any, *, context: str = "train",
                save: bool = False, description: Optional[str] = None, force_save: bool = False,
                max_archive_bytes: int = 5 << 30, max_archive_files: int = 2_000_000) -> None:
    if not isinstance(name, str) or not name:
        raise ValueError(f"dataset name must be a non-empty string, got {name!r}")
    uri = _uri_or_path(root_or_uri)
    local = uri if isinstance(uri, str) and not _URI.match(uri) else None
    _check_limits(local, save, force_save, max_archive_bytes, max_archive_files, "dataset")
    entry = {"name": name, "context": context, "uri": uri, "description": description,
             "saved": False, "fingerprint": _local_fingerprint(local) if local else None}
    if save:
        _warn(run, "save", "log_dataset(save=True): archive copies are not supported by this "
                           "version yet; the dataset is recorded without a copy")

    def change(data: Any) -> Any:
        if not isinstance(data, dict):
            data = _assets_default()
        items = data.get("datasets")
        items = items if isinstance(items, list) else []
        items = [d for d in items if not (isinstance(d, dict) and d.get("name") == name
                                          and d.get("context") == context)]
        items.append(entry)
        data["datasets"] = items
        return data

    try:
        update_json(run.run_dir / "assets.json", change, _assets_default())
    except OSError as e:
        _warn(run, "assets", f"log_dataset could not update assets.json: {e}")


def log_pretrained(run: Any, name: str, *, path_or_uri: Any = None, save: bool = False,
                   source_type: str = "unknown", description: Optional[str] = None,
                   force_save: bool = False, max_archive_bytes: int = 5 << 30,
                   max_archive_files: int = 2_000_000) -> None:
    if not isinstance(name, str) or not name:
        raise ValueError(f"pretrained name must be a non-empty string, got {name!r}")
    if save and path_or_uri is None:
        raise ValueError("log_pretrained(save=True) needs path_or_uri")
    uri = None if path_or_uri is None else _uri_or_path(path_or_uri)
    local = uri if isinstance(uri, str) and not _URI.match(uri) else None
    _check_limits(local, save, force_save, max_archive_bytes, max_archive_files, "pretrained model")
    entry = {"name": name, "source_type": source_type, "path_or_uri": uri,
             "description": description, "saved": False}
    if save:
        _warn(run, "save", "log_pretrained(save=True): archive copies are not supported by this "
                           "version yet; the model is recorded without a copy")

    def change(data: Any) -> Any:
        if not isinstance(data, dict):
            data = _assets_default()
        items = data.get("pretrained")
        items = items if isinstance(items, list) else []
        items = [d for d in items if not (isinstance(d, dict) and d.get("name") == name)]
        items.append(entry)
        data["pretrained"] = items
        return data

    try:
        update_json(run.run_dir / "assets.json", change, _assets_default())
    except OSError as e:
        _warn(run, "assets", f"log_pretrained could not update assets.json: {e}")


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


def scan_outputs_once(run: Any, **kwargs: Any) -> Dict[str, Any]:
    _warn(run, "outputs", "scan_outputs_once() is not supported by this version yet; "
                          "nothing was archived")
    return {"run_id": run.id, "scanned": 0, "archived": 0, "changed": 0, "archived_entries": []}


def watch_outputs(run: Any, **kwargs: Any) -> None:
    _warn(run, "outputs", "watch_outputs() is not supported by this version yet; "
                          "nothing will be archived")


def stop_outputs_watch(run: Any) -> None:
    return None
