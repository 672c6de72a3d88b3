"""Versioned artifacts (SDK.md §4.15, FORMAT.md §7.6): ``rn.Artifact``, ``ArtifactVersion``,
``run.log_artifact``, ``run.use_artifact`` and ``rn.artifact`` over the native core.

    a = rn.Artifact("resnet50", type="model", metadata={"acc": 0.81})
    a.add_file("ckpt/best.pth", name="model.pth")
    v = run.log_artifact(a, aliases=["production"])     # "resnet50:v3"
    root = run.use_artifact("imagenet-mini:production").download("data/imagenet-mini")

Errors: ``ValueError`` for invalid names, aliases, references and options; ``FileNotFoundError``
for a missing source; ``LookupError`` for an unknown artifact, version, alias or file;
``FileExistsError`` when a download would replace a file with other content. Storage failures
in ``run.log_artifact``/``run.use_artifact`` warn and return ``None`` (SDK.md §1.7).
The work (hashing, copying, linking) runs with the GIL released (SDK.md §1.10).
"""

from __future__ import annotations

import json
import os
import pathlib
import warnings
from typing import Any, Dict, Iterable, List, Optional

from . import _native
from ._values import to_json_safe

__all__ = ["Artifact", "ArtifactVersion", "artifact"]

_OK = _native.RN_OK
_INVALID = _native.RN_E_INVALID_ARGUMENT
_NOT_FOUND = _native.RN_E_NOT_FOUND
_EXISTS = _native.RN_E_ALREADY_EXISTS
_DENIED = _native.RN_E_PERMISSION_DENIED


def _warn(message: str) -> None:
    try:
        warnings.warn("runicorn: " + message, RuntimeWarning, stacklevel=3)
    except Exception:  # warnings configured as errors must not break the caller
        pass


def _raise(rc: int, message: str, *, not_found=LookupError) -> None:
    """The exception of §4.15 for a failed native call."""
    if rc == _INVALID:
        raise ValueError(message)
    if rc == _NOT_FOUND:
        raise not_found(message)
    if rc == _EXISTS:
        raise FileExistsError(message)
    if rc == _DENIED:
        raise PermissionError(message)
    raise OSError(message)


def _path_arg(value: Any, what: str) -> str:
    try:
        return os.fspath(value)
    except TypeError:
        raise TypeError(f"{what} must be a str or os.PathLike, got {type(value).__name__}") \
            from None


class Artifact:
    """Files and folders to log as the next version of artifact ``name`` (SDK.md §4.15).
    Sources must exist when added and are read when the artifact is logged. Not safe for
    concurrent use: build it in one thread."""

    def __init__(self, name: str, type: str, description: Optional[str] = None,
                 metadata: Optional[Dict[str, Any]] = None) -> None:
        if not isinstance(name, str) or not isinstance(type, str):
            raise ValueError("artifact name and type must be strings")
        rc, msg, handle = _native.artifact_new(name, type)
        if rc != _OK:
            _raise(rc, msg)
        self._h = handle
        self.name = name
        self.type = type
        self.description = ""
        self.metadata: Dict[str, Any] = {}
        if description is not None:
            self.set_description(description)
        if metadata is not None:
            self.set_metadata(metadata)

    def add_file(self, local_path: Any, name: Optional[str] = None) -> "Artifact":
        """Adds a file as ``name`` (default: its base name). ``FileNotFoundError`` when it does not
        exist; ``ValueError`` for a folder, a bad name or a path already taken."""
        rc, msg = _native.artifact_add_file(self._h, _path_arg(local_path, "local_path"), name)
        if rc != _OK:
            _raise(rc, msg, not_found=FileNotFoundError)
        return self

    def add_dir(self, local_path: Any, name: Optional[str] = None) -> "Artifact":
        """Adds every file under a folder, below folder ``name`` (default: the artifact root)."""
        rc, msg = _native.artifact_add_dir(self._h, _path_arg(local_path, "local_path"), name)
        if rc != _OK:
            _raise(rc, msg, not_found=FileNotFoundError)
        return self

    def set_description(self, description: str) -> None:
        rc, msg = _native.artifact_set_description(self._h, str(description))
        if rc != _OK:
            _raise(rc, msg)
        self.description = str(description)

    def set_metadata(self, metadata: Dict[str, Any]) -> None:
        if not isinstance(metadata, dict):
            raise ValueError("artifact metadata must be a dict")
        safe = to_json_safe(metadata)
        rc, msg = _native.artifact_set_metadata_json(self._h, json.dumps(safe))
        if rc != _OK:
            _raise(rc, msg)
        self.metadata = safe

    def __repr__(self) -> str:
        return f"<runicorn.Artifact {self.name!r} type={self.type!r}>"


class ArtifactVersion:
    """One resolved version (immutable, except its aliases). ``str(v) == "name:vN"``. Safe for
    concurrent use."""

    def __init__(self, handle: Any) -> None:
        self._h = handle
        rc, msg, text = _native.version_json(handle)
        if rc != _OK:
            _raise(rc, msg)
        d = json.loads(text)
        self.name: str = d["name"]
        self.type: str = d["type"]
        self.version: int = int(d["version"])
        self.digest: str = d["digest"]
        self.aliases: List[str] = list(d.get("aliases") or [])
        self.created_at: float = float(d.get("created_at") or 0.0)
        self.description: str = d.get("description") or ""
        self.metadata: Dict[str, Any] = d.get("metadata") or {}
        self.file_count: int = int(d.get("file_count") or 0)
        self.total_size_bytes: int = int(d.get("total_size_bytes") or 0)
        self.produced_by: Optional[Dict[str, Any]] = d.get("produced_by")
        self.deduplicated: bool = bool(d.get("deduplicated"))

    def files(self) -> List[Dict[str, Any]]:
        """``[{"path", "size_bytes", "sha256"}, ...]`` sorted by path."""
        rc, msg, text = _native.version_files_json(self._h)
        if rc != _OK:
            _raise(rc, msg)
        return json.loads(text)

    @staticmethod
    def _flags(link: bool, overwrite: bool) -> int:
        flags = 0
        if not link:
            flags |= _native.RN_DL_NO_LINK
        if overwrite:
            flags |= _native.RN_DL_OVERWRITE
        return flags

    def download(self, dest: Any = None, *, link: bool = True,
                 overwrite: bool = False) -> pathlib.Path:
        """Materialises every file under ``dest`` (default ``./artifacts/<name>-v<N>``) and
        returns it (absolute). ``link=True``: read-only hard links to the blobs (falling back to
        reflinks or copies); ``link=False``: independent writable files. A differing existing file
        is ``FileExistsError`` unless ``overwrite``."""
        d = None if dest is None else _path_arg(dest, "dest")
        rc, msg, path = _native.version_download(self._h, d, self._flags(link, overwrite))
        if rc != _OK:
            _raise(rc, msg)
        return pathlib.Path(path)

    def get_path(self, rel: str, dest: Any = None, *, link: bool = True,
                 overwrite: bool = False) -> pathlib.Path:
        """Materialises the one file ``rel`` (a path of ``files()``) under ``dest`` (default as
        ``download``) and returns its path. ``LookupError`` when the version has no such file."""
        d = None if dest is None else _path_arg(dest, "dest")
        rc, msg, path = _native.version_download_file(self._h, str(rel), d,
                                                      self._flags(link, overwrite))
        if rc != _OK:
            _raise(rc, msg)
        return pathlib.Path(path)

    def set_alias(self, alias: str) -> None:
        """Points ``alias`` at this version (moving it). ``latest`` and ``v<N>`` are reserved
        (``ValueError``)."""
        rc, msg = _native.version_set_alias(self._h, str(alias))
        if rc != _OK:
            _raise(rc, msg)
        if alias not in self.aliases:
            self.aliases = sorted(self.aliases + [alias])

    def remove_alias(self, alias: str) -> None:
        """Drops ``alias`` from this version. ``LookupError`` when it is not set; ``ValueError``
        when it points at another version or is reserved."""
        rc, msg = _native.version_remove_alias(self._h, str(alias))
        if rc != _OK:
            if rc == _native.RN_E_FAILED_PRECONDITION:
                raise ValueError(msg)
            _raise(rc, msg)
        self.aliases = [a for a in self.aliases if a != alias]

    def __str__(self) -> str:
        return f"{self.name}:v{self.version}"

    def __repr__(self) -> str:
        return f"<runicorn.ArtifactVersion {self.name}:v{self.version} type={self.type!r}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ArtifactVersion):
            return NotImplemented
        return (self.name, self.version, self.digest) == (other.name, other.version, other.digest)

    def __hash__(self) -> int:
        return hash((self.name, self.version, self.digest))


def artifact(ref: str, storage: Any = None) -> ArtifactVersion:
    """Resolves ``ref`` ("name", "name:latest", "name:v3", "name:<alias>") in ``storage`` (default:
    the resolution chain of ``rn.init``) without recording a use. ``LookupError`` when unknown,
    ``ValueError`` for a malformed reference."""
    if not isinstance(ref, str):
        raise ValueError("artifact reference must be a string")
    s = None if storage is None else _path_arg(storage, "storage")
    rc, msg, handle = _native.resolve_artifact(ref, s)
    if rc != _OK:
        _raise(rc, msg)
    return ArtifactVersion(handle)


def _aliases_arg(aliases: Optional[Iterable[str]]) -> List[str]:
    if aliases is None:
        return []
    if isinstance(aliases, str):
        return [aliases]
    out = []
    for a in aliases:
        if not isinstance(a, str):
            raise ValueError(f"aliases must be strings, got {type(a).__name__}")
        out.append(a)
    return out


def log_artifact(run: Any, artifact_obj: Artifact,
                 aliases: Optional[Iterable[str]] = None) -> Optional[ArtifactVersion]:
    """``run.log_artifact``: argument errors raise; storage failures warn and return None."""
    if not isinstance(artifact_obj, Artifact):
        raise TypeError(f"log_artifact() needs a runicorn.Artifact, got "
                        f"{type(artifact_obj).__name__}")
    names = _aliases_arg(aliases)
    rc, msg, handle = _native.log_artifact(run, artifact_obj._h, names)
    if rc == _OK:
        return ArtifactVersion(handle)
    if rc == _INVALID:
        raise ValueError(msg)
    if rc == _NOT_FOUND:
        raise FileNotFoundError(msg)
    _warn(f"log_artifact({artifact_obj.name!r}) failed: {msg}")
    return None


def use_artifact(run: Any, ref: str) -> Optional[ArtifactVersion]:
    """``run.use_artifact``: unknown → LookupError, malformed → ValueError; storage failures warn
    and return None."""
    if not isinstance(ref, str):
        raise ValueError("artifact reference must be a string")
    rc, msg, handle = _native.use_artifact(run, ref)
    if rc == _OK:
        return ArtifactVersion(handle)
    if rc == _INVALID:
        raise ValueError(msg)
    if rc == _NOT_FOUND:
        raise LookupError(msg)
    _warn(f"use_artifact({ref!r}) failed: {msg}")
    return None
