"""The run: ``rn.init`` and ``Run`` (SDK.md §4.3–4.5) over the native core.

``Run`` subclasses the native ``RunBase``; ``run.log`` is the C method itself. Everything here
that runs after ``init`` catches its own errors: logging never raises into the training loop
(SDK.md §1.7); a problem is warned once (``RuntimeWarning``) and counted in ``run.stats``.
"""

from __future__ import annotations

import atexit
import json
import logging
import math
import os
import pathlib
import platform
import sys
import threading
import warnings
from typing import Any, Dict, Iterable, List, Optional

from . import _native
from ._values import finite_json, to_json_safe

_TQDM_MODES = ("smart", "all", "none")
_RESUME = {None: 0, "never": 0, "allow": 1, "must": 2}
_DURABILITY = {"buffered": 0, "flush": 1, "none": 2}

_init_lock = threading.RLock()
_active: Optional["Run"] = None
_open_runs: "List[Run]" = []
_uncaught: List[BaseException] = []
_hooks_installed = False


def _warn(message: str) -> None:
    try:
        warnings.warn("runicorn: " + message, RuntimeWarning, stacklevel=3)
    except Exception:  # warnings configured as errors must not break the caller
        pass


def _seconds_to_ms(value: float, name: str, lo: int = 0) -> int:
    try:
        ms = int(round(float(value) * 1000.0))
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number of seconds, got {value!r}") from None
    if ms < lo or ms > 0xFFFFFFFF:
        raise ValueError(f"{name} out of range: {value!r}")
    return ms


def _env_list(name: str) -> Optional[List[str]]:
    v = os.environ.get(name)
    if not v:
        return None
    return [t.strip() for t in v.split(",") if t.strip()]


class Run(_native.RunBase):
    """One live run. Create it with ``rn.init``; attributes as in Runicorn v0.6 plus ``tags``,
    ``finished`` and ``stats``. Safe for concurrent use from several threads."""

    # --- set up by init --------------------------------------------------------------------
    def _setup(self, alias: Optional[str], tags: List[str], workspace_root: Optional[str]) -> None:
        info = self._info()
        self.id: str = info["id"]
        self.path: Optional[str] = info["path"]
        self.alias: Optional[str] = alias
        self.storage_root = pathlib.Path(info["storage_root"])
        self.runs_dir = self.storage_root / "runs"
        self.run_dir = pathlib.Path(info["run_dir"])
        self.media_dir = self.run_dir / "media"
        ws = workspace_root
        if not ws:
            try:
                meta = json.loads((self.run_dir / "meta.json").read_text(encoding="utf-8"))
                ws = meta.get("workspace_root")
            except Exception:
                ws = None
        self.workspace_root = pathlib.Path(ws) if ws else None
        self.tags: List[str] = list(tags)
        self._console = None
        self._outputs_watch = None
        self._pid = os.getpid()

    # --- attributes --------------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        info = self._info()
        return bool(info and info["finished"])

    @property
    def stats(self) -> Dict[str, int]:
        return self._stats()

    # --- logging (log itself is native) ---------------------------------------------------------
    def log_text(self, text: Any) -> None:
        """Appends ``HH:MM:SS | text`` to logs.txt. Never raises."""
        try:
            if not isinstance(text, str):
                text = str(text)
            self._log_text(text)
        except Exception as e:  # noqa: BLE001 - logging never raises after init
            self._warn_once("log_text", None, f"log_text() failed: {e}")

    def log_image(self, key: str, image: Any, step: Any = None, caption: Optional[str] = None,
                  format: str = "png", quality: int = 90) -> str:
        """Writes ``media/<file>`` and returns ``"media/<file>"``; ``""`` (with one warning) when
        the image cannot be logged. Never raises."""
        try:
            from ._images import encode_image
            key_s = str(key)
            cap = None if caption is None else str(caption)
            data, file, fmt = encode_image(image, format, quality)
            rc, out = self._log_image(key_s, data, file, step, cap, fmt)
            if rc != 0:
                self._warn_once("log_image", key_s, f"log_image({key_s!r}) failed: {out}")
                return ""
            return out
        except Exception as e:  # noqa: BLE001
            self._warn_once("log_image", str(key), f"log_image({key!r}) failed: {e}")
            return ""

    def get_logging_handler(self, level: int = logging.INFO, fmt: Optional[str] = None):
        from .console import RunicornLoggingHandler
        return RunicornLoggingHandler(run=self, level=level, fmt=fmt)

    # --- set-up calls ------------------------------------------------------------------------------
    def set_primary_metric(self, metric_name: str, mode: str = "max") -> None:
        m = str(mode).lower() if isinstance(mode, str) else mode
        if m not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
        if not isinstance(metric_name, str) or not metric_name:
            raise ValueError(f"metric_name must be a non-empty string, got {metric_name!r}")
        r = self._set_primary_metric(metric_name, 0 if m == "max" else 1)
        if r and r[0] != 0:
            self._warn_once("primary", None, f"set_primary_metric failed: {r[1]}")

    def summary(self, update: Dict[str, Any]) -> None:
        """Shallow-merges ``update`` into summary.json (asynchronously)."""
        try:
            if not isinstance(update, dict):
                update = dict(update)
            text, _ = finite_json(to_json_safe(update, keys_to_str=True))
            rc, msg = self._summary_json(text)
            if rc != 0:
                self._warn_once("summary", None, f"summary() failed: {msg}")
        except Exception as e:  # noqa: BLE001
            self._warn_once("summary", None, f"summary() failed: {e}")

    def log_config(self, *, args: Any = None, extra: Any = None,
                   config_files: Optional[Iterable[Any]] = None) -> None:
        """Sets assets.json ``config.args`` / ``.extra`` / ``.config_files`` (each when given)."""
        from ._values import config_to_dict
        a = None if args is None else finite_json(config_to_dict(args))[0]
        e = None if extra is None else finite_json(config_to_dict(extra))[0]
        files = None if config_files is None else [os.fspath(f) if not isinstance(f, str) else f
                                                   for f in config_files]
        try:
            rc, msg = self._log_config_json(a, e, files)
            if rc != 0:
                self._warn_once("log_config", None, f"log_config() failed: {msg}")
        except Exception as ex:  # noqa: BLE001
            self._warn_once("log_config", None, f"log_config() failed: {ex}")

    def log_dataset(self, name: str, root_or_uri: Any, *, context: str = "train",
                    save: bool = False, description: Optional[str] = None,
                    force_save: bool = False, max_archive_bytes: int = 5 << 30,
                    max_archive_files: int = 2_000_000) -> None:
        from . import _assets
        _assets.log_dataset(self, name, root_or_uri, context=context, save=save,
                            description=description, force_save=force_save,
                            max_archive_bytes=max_archive_bytes,
                            max_archive_files=max_archive_files)

    def log_pretrained(self, name: str, *, path_or_uri: Any = None, save: bool = False,
                       source_type: str = "unknown", description: Optional[str] = None,
                       force_save: bool = False, max_archive_bytes: int = 5 << 30,
                       max_archive_files: int = 2_000_000) -> None:
        from . import _assets
        _assets.log_pretrained(self, name, path_or_uri=path_or_uri, save=save,
                               source_type=source_type, description=description,
                               force_save=force_save, max_archive_bytes=max_archive_bytes,
                               max_archive_files=max_archive_files)

    def scan_outputs_once(self, *, output_dirs, patterns=None, stable_required: int = 2,
                          min_age_sec: float = 1.0, mode: str = "rolling",
                          log_snapshot_interval_sec: float = 60.0,
                          state_gc_after_sec: float = 604800) -> Dict[str, Any]:
        from . import _assets
        return _assets.scan_outputs_once(
            self, output_dirs=output_dirs, patterns=patterns, stable_required=stable_required,
            min_age_sec=min_age_sec, mode=mode,
            log_snapshot_interval_sec=log_snapshot_interval_sec,
            state_gc_after_sec=state_gc_after_sec)

    def watch_outputs(self, *, output_dirs, interval_sec: float = 10.0, **kwargs) -> None:
        from . import _assets
        _assets.watch_outputs(self, output_dirs=output_dirs, interval_sec=interval_sec, **kwargs)

    def stop_outputs_watch(self) -> None:
        from . import _assets
        _assets.stop_outputs_watch(self)

    def add_tags(self, *tags: str) -> None:
        from . import _assets
        _assets.add_tags(self, tags)

    # --- artifacts (sdk-artifacts; SDK.md §4.15) ---------------------------------------------------
    def log_artifact(self, artifact, aliases=None):
        """Logs ``artifact`` as its next version (or reuses the latest one when the content is
        identical) and returns the ``ArtifactVersion``; storage failures warn and return None."""
        from . import artifacts
        return artifacts.log_artifact(self, artifact, aliases)

    def use_artifact(self, ref: str):
        """Resolves ``ref`` and records the use in the run's artifacts.json; unknown →
        ``LookupError``."""
        from . import artifacts
        return artifacts.use_artifact(self, ref)

    # --- flush / finish ---------------------------------------------------------------------------
    def flush(self, timeout: Optional[float] = None) -> bool:
        """Waits until everything logged so far is written; False on timeout."""
        ms = 5000 if timeout is None else max(0, int(float(timeout) * 1000))
        rc, msg = self._flush(ms)
        if rc == _native.RN_E_DEADLINE_EXCEEDED:
            return False
        if rc not in (0, _native.RN_E_FAILED_PRECONDITION):
            self._warn_once("flush", None, f"flush() failed: {msg}")
        return True

    def finish(self, status: str = "finished", *, _exit_reason: Optional[str] = None) -> None:
        """Finishes the run (idempotent; a second call warns once)."""
        global _active
        try:
            if os.getpid() != getattr(self, "_pid", os.getpid()):
                return  # a fork child never finishes its parent's run
            try:
                self.stop_outputs_watch()
            except Exception:
                pass
            console = getattr(self, "_console", None)
            if console is not None:
                self._console = None
                try:
                    console.stop()
                except Exception:
                    pass
            rc, msg = self._finish(str(status), _exit_reason)
            if rc == _native.RN_E_FAILED_PRECONDITION:
                self._warn_once("finish", None, "finish() on a finished run is ignored")
            elif rc != 0:
                self._warn_once("finish", None, f"finish() could not complete: {msg}")
        finally:
            with _init_lock:
                if _active is self:
                    _active = None
                try:
                    _open_runs.remove(self)
                except ValueError:
                    pass

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.finish("finished")
        else:
            self._finish_failed(exc_type, exc)
        return False

    def _finish_failed(self, exc_type, exc) -> None:
        """finish("failed") with exit_reason "exception", then status.json "error"."""
        was_finished = self.finished
        self.finish("failed", _exit_reason="exception")
        if was_finished or os.getpid() != getattr(self, "_pid", os.getpid()):
            return
        try:
            from ._assets import update_json
            error = {"type": getattr(exc_type, "__name__", str(exc_type)),
                     "message": str(exc)[:4096]}

            def add_error(status):
                if isinstance(status, dict) and status.get("status") == "failed":
                    status["error"] = error
                return status

            update_json(self.run_dir / "status.json", add_error, None)
        except Exception:  # noqa: BLE001 - best effort; the status itself is already written
            pass

    # log_artifact / use_artifact: not in this version (they need the dedup store).

    def __repr__(self) -> str:
        return f"<runicorn.Run id={getattr(self, 'id', '?')!r} path={getattr(self, 'path', None)!r}>"


def _install_hooks() -> None:
    """atexit finishes open runs; an uncaught exception makes them ``failed`` (SDK.md §5)."""
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    previous = sys.excepthook

    def excepthook(tp, value, tb):
        if not issubclass(tp, SystemExit):
            _uncaught.append(value)
        previous(tp, value, tb)

    sys.excepthook = excepthook
    atexit.register(_at_exit)


def _at_exit() -> None:
    with _init_lock:
        runs = list(_open_runs)
    for run in runs:
        try:
            if run.finished:
                continue
            if _uncaught:
                e = _uncaught[-1]
                run._finish_failed(type(e), e)
            else:
                run.finish("finished", _exit_reason="process_exit")
        except Exception:
            pass


def _check_path(path: Optional[str]) -> None:
    """The path rules of FORMAT.md §3.3 with v0.6's messages (the core checks them again)."""
    if path is None:
        return
    if not isinstance(path, str):
        raise ValueError(f"path must be a string, got {type(path).__name__}")
    p = path.replace("\\", "/")
    if p in ("", "/"):
        return
    if ".." in p:
        raise ValueError(f"Invalid path {path!r}: '..' is not allowed")
    stripped = "/".join(s for s in p.strip("/").split("/") if s)
    if not stripped or any(not (c.isascii() and (c.isalnum() or c in "_-/")) for c in stripped):
        raise ValueError(f"Invalid path {path!r}: only letters, digits, '_', '-' and '/' are "
                         "allowed (invalid characters)")
    if len(stripped) > 200:
        raise ValueError(f"Invalid path {path!r}: too long ({len(stripped)} > 200 characters)")


def init(path: Optional[str] = None, storage: Optional[str] = None, run_id: Optional[str] = None,
         alias: Optional[str] = None, capture_env: bool = False, snapshot_code: bool = False,
         workspace_root: Optional[str] = None, snapshot_format: Optional[str] = None,
         force_snapshot: bool = False, capture_console: Any = False, tqdm_mode: str = "smart",
         *, project: Optional[str] = None, name: Optional[str] = None,
         tags: Optional[Iterable[str]] = None, config: Any = None, resume: Optional[str] = None,
         durability: str = "buffered", flush_interval: float = 0.05,
         queue_capacity: int = 64 << 20, max_block: float = 0.0,
         heartbeat_interval: float = 10.0, handle_signals: bool = False,
         on_init_error: str = "raise"):
    """Creates a run folder and returns the ``Run`` (SDK.md §4.3); a ``NoOpRun`` when disabled.

    Raises ``ValueError`` for invalid arguments and ``PermissionError``/``OSError`` for an
    unwritable storage root (unless ``on_init_error="noop"``).
    """
    global _active
    from .enabled import NoOpRun, is_enabled
    if on_init_error not in ("raise", "noop"):
        raise ValueError(f"on_init_error must be 'raise' or 'noop', got {on_init_error!r}")
    if not is_enabled():
        with _init_lock:
            _active = None
        return NoOpRun(path=path, alias=alias, storage=storage)
    try:
        # Argument checks, all before anything is created.
        if tqdm_mode not in _TQDM_MODES:
            raise ValueError(f"tqdm_mode must be one of 'smart', 'all', 'none', got {tqdm_mode!r}")
        if capture_console not in (True, False, None, "fd", 0, 1):
            raise ValueError(f"capture_console must be True, False or 'fd', got {capture_console!r}")
        if snapshot_format not in (None, "zip", "manifest"):
            raise ValueError(f"snapshot_format must be 'zip' or 'manifest', got {snapshot_format!r}")
        if run_id is None:
            run_id = os.environ.get("RUNICORN_RUN_ID") or None
        if resume is None:
            resume = os.environ.get("RUNICORN_RESUME") or None
        if tags is None:
            tags = _env_list("RUNICORN_TAGS")
        if path is None and project is None and name is None:
            project = os.environ.get("RUNICORN_PROJECT") or None
        if path is not None and (project is not None or name is not None):
            raise ValueError("pass either path= or project=/name=, not both")
        if resume not in _RESUME:
            raise ValueError(f"resume must be 'never', 'allow' or 'must', got {resume!r}")
        if durability not in _DURABILITY:
            raise ValueError(f"durability must be 'buffered', 'flush' or 'none', got {durability!r}")
        _check_path(path)
        for label, part in (("project", project), ("name", name)):
            if part is not None:
                _check_path(part)
        tag_list = [str(t) for t in (tags or [])]
        flush_ms = _seconds_to_ms(flush_interval, "flush_interval", 1)
        block_ms = _seconds_to_ms(max_block, "max_block")
        try:
            hb = int(math.ceil(float(heartbeat_interval)))
            cap = int(queue_capacity)
        except (TypeError, ValueError):
            raise ValueError("heartbeat_interval and queue_capacity must be numbers") from None
        if hb < 1 or cap < 1:
            raise ValueError("heartbeat_interval and queue_capacity must be positive")
        if storage is not None:
            storage = os.fspath(storage)
        if workspace_root is not None:
            workspace_root = os.fspath(workspace_root)

        with _init_lock:
            run = Run.__new__(Run)
            Run.__init__(run,  # the native RunBase.__init__
                         path=path, project=project, name=name, storage=storage, run_id=run_id,
                         alias=alias, tags=tag_list, resume=_RESUME[resume],
                         workspace_root=workspace_root, durability=_DURABILITY[durability],
                         flush_interval_ms=flush_ms, max_block_ms=block_ms,
                         heartbeat_interval_s=hb, queue_capacity=cap,
                         handle_signals=bool(handle_signals),
                         python_version=platform.python_version())
            run._setup(alias, tag_list, workspace_root)
            _install_hooks()
            _open_runs.append(run)
            _active = run
    except (ValueError, OSError, RuntimeError) as e:
        if on_init_error == "noop":
            _warn(f"init failed ({e}); continuing with a no-op run")
            with _init_lock:
                _active = None
            return NoOpRun(path=path, alias=alias, storage=storage)
        if isinstance(e, RuntimeError) and "held" in str(e):
            raise RuntimeError(f"run is in use: {e}") from None
        raise
    if snapshot_code:  # sdk-assets: FORMAT.md §4.9 (too large → ValueError, as in v0.6)
        from ._assets import snapshot_code as _snapshot_code
        _snapshot_code(run, workspace_root=workspace_root, snapshot_format=snapshot_format,
                       force_snapshot=force_snapshot)
    if capture_env:
        try:
            from ._assets import write_environment
            write_environment(run)
        except Exception as e:  # noqa: BLE001
            _warn(f"capture_env failed: {e}")
    if config is not None:
        run.log_config(args=config)
    if capture_console == "fd":
        _warn("capture_console='fd' is not supported by this version yet; capturing "
              "sys.stdout/sys.stderr only")
    if capture_console:
        try:
            from .console import ConsoleCapture
            run._console = ConsoleCapture(run, tqdm_mode=tqdm_mode)
            run._console.start()
        except Exception as e:  # noqa: BLE001
            _warn(f"console capture failed: {e}")
    return run


def get_active_run() -> Optional[Run]:
    """The run of the last successful init, until it is finished (SDK.md §4.5)."""
    run = _active
    return run


# Module-level helpers acting on the active run (NEW, README style).
def _on_active(method: str, *args, **kwargs):
    run = get_active_run()
    if run is None:
        _warn(f"rn.{method}() without an active run is ignored")
        return None
    return getattr(run, method)(*args, **kwargs)


def log(data=None, *, step=None, stage=None, **kwargs) -> None:
    run = get_active_run()
    if run is None:
        _warn("rn.log() without an active run is ignored")
        return
    run.log(data, step=step, stage=stage, **kwargs)


def log_text(text) -> None:
    _on_active("log_text", text)


def summary(update) -> None:
    _on_active("summary", update)


def finish(status: str = "finished") -> None:
    _on_active("finish", status)


def use_artifact(ref: str):
    """``run.use_artifact`` on the active run (sdk-artifacts); without one: a warning and None."""
    return _on_active("use_artifact", ref)

