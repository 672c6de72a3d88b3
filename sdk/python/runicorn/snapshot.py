"""``snapshot_workspace`` (SDK.md §4.10): a zip of a workspace, honouring ``.rnignore``."""

from __future__ import annotations

import fnmatch
import os
import zipfile
from typing import Any, Dict, Iterable, List, Optional

_DEFAULT_EXCLUDES = [".git/", "__pycache__/", "*.pyc", ".runicorn/", ".venv/", "venv/",
                     "node_modules/", ".mypy_cache/", ".pytest_cache/", ".idea/", ".vscode/"]


def _rules(root: str, ignore_file: Optional[str], extra: Optional[Iterable[str]]) -> List[str]:
    rules = list(_DEFAULT_EXCLUDES)
    if ignore_file:
        p = os.path.join(root, ignore_file)
        try:
            with open(p, encoding="utf-8") as f:
                rules += [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]
        except OSError:
            pass  # COMPAT (fix): a missing .rnignore is never created
    rules += list(extra or [])
    return rules


def _ignored(rel: str, is_dir: bool, rules: List[str]) -> bool:
    name = rel.rsplit("/", 1)[-1]
    for r in rules:
        dir_only = r.endswith("/")
        pat = r.rstrip("/")
        if dir_only and not is_dir:
            continue
        if "/" in pat.lstrip("/"):
            if fnmatch.fnmatchcase(rel, pat.lstrip("/")):
                return True
        elif fnmatch.fnmatchcase(name, pat):
            return True
    return False


def snapshot_workspace(root: Any, out_zip: Any, *, ignore_file: str = ".rnignore",
                       extra_excludes: Optional[Iterable[str]] = None,
                       max_total_bytes: int = 500 * 1024 * 1024, max_files: int = 200_000,
                       force_snapshot: bool = False) -> Dict[str, Any]:
    """Zips ``root`` into ``out_zip``; over the limits without ``force_snapshot`` →
    ``ValueError("code snapshot too large: ...")``."""
    root = os.path.abspath(os.fspath(root))
    out_zip = os.path.abspath(os.fspath(out_zip))
    rules = _rules(root, ignore_file, extra_excludes)
    files: List[str] = []
    total = 0
    for cur, dirs, names in os.walk(root):
        rel_dir = os.path.relpath(cur, root).replace(os.sep, "/")
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirs[:] = sorted(d for d in dirs if not _ignored(rel_dir + d, True, rules))
        for n in sorted(names):
            rel = rel_dir + n
            full = os.path.join(cur, n)
            if full == out_zip or _ignored(rel, False, rules) or not os.path.isfile(full):
                continue
            files.append(rel)
            total += os.path.getsize(full)
            if not force_snapshot and (len(files) > max_files or total > max_total_bytes):
                raise ValueError(f"code snapshot too large: more than {max_files} files or "
                                 f"{max_total_bytes} bytes under {root}; add excludes to "
                                 f"{ignore_file} or pass force_snapshot=True")
    os.makedirs(os.path.dirname(out_zip) or ".", exist_ok=True)
    with zipfile.ZipFile(out_zip, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for rel in files:
            z.write(os.path.join(root, rel), rel)
    return {"workspace_root": root, "archive_path": out_zip, "format": "zip",
            "file_count": len(files), "total_bytes": total}
