"""The enabled/no-op switch (SDK.md §1.8, §4.7): ``RUNICORN_ON``, ``RUNICORN_MODE``,
``set_enabled``, ``reset_enabled``, ``with rn.enabled(False): ...`` and ``NoOpRun``."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from typing import Any, Dict, Iterator, List, Optional

from . import _native

_TRUE = ("1", "true", "yes", "y", "on")
_FALSE = ("0", "false", "no", "n", "off")
_lock = threading.Lock()
_override: Optional[bool] = None


def is_enabled() -> bool:
    """The ``set_enabled`` override if any, else ``RUNICORN_ON``, then ``RUNICORN_MODE``."""
    if _override is not None:
        return _override
    on = os.environ.get("RUNICORN_ON")
    if on is not None:
        v = on.strip().lower()
        if v in _FALSE:
            return False
        if v in _TRUE:
            return True
    mode = os.environ.get("RUNICORN_MODE")
    if mode is not None and mode.strip().lower() == "disabled":
        return False
    return True


def set_enabled(flag: bool) -> None:
    global _override
    with _lock:
        _override = bool(flag)
        _native.set_enabled(bool(flag))


def reset_enabled() -> None:
    global _override
    with _lock:
        _override = None
        _native.reset_enabled()


def _restore(previous: Optional[bool]) -> None:
    global _override
    with _lock:
        _override = previous
        if previous is None:
            _native.reset_enabled()
        else:
            _native.set_enabled(previous)


@contextlib.contextmanager
def enabled(flag: bool = True) -> Iterator[None]:
    """``with rn.enabled(False): ...`` — the override in force before the block comes back."""
    previous = _override
    set_enabled(flag)
    try:
        yield
    finally:
        _restore(previous)


class _DiscardHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        pass


class NoOpRun:
    """The run ``init`` returns while disabled: ``id == "disabled"``; every method of ``Run``
    accepts the same arguments and does nothing."""

    def __init__(self, path: Optional[str] = None, alias: Optional[str] = None,
                 storage: Any = None) -> None:
        self._storage = storage  # where use_artifact resolves (None: the resolution chain)
        self.id = "disabled"
        self.path = path
        self.alias = alias
        self.run_dir = None
        self.storage_root = None
        self.runs_dir = None
        self.media_dir = None
        self.workspace_root = None
        self.tags: List[str] = []
        self.finished = False

    @property
    def stats(self) -> Dict[str, int]:
        return {"records_logged": 0, "records_written": 0, "records_dropped": 0,
                "bytes_written": 0, "write_errors": 0, "queue_bytes": 0, "invalid_values": 0}

    def log(self, data: Any = None, *, step: Any = None, stage: Any = None, **kwargs: Any) -> None:
        pass

    def log_text(self, text: Any) -> None:
        pass

    def log_image(self, key: str, image: Any, step: Any = None, caption: Optional[str] = None,
                  format: str = "png", quality: int = 90) -> str:
        return ""

    def log_config(self, *, args: Any = None, extra: Any = None, config_files: Any = None) -> None:
        pass

    def log_dataset(self, name: str, root_or_uri: Any, **kwargs: Any) -> None:
        pass

    def log_pretrained(self, name: str, **kwargs: Any) -> None:
        pass

    def summary(self, update: Dict[str, Any]) -> None:
        pass

    def set_primary_metric(self, metric_name: str, mode: str = "max") -> None:
        pass

    def scan_outputs_once(self, **kwargs: Any) -> Dict[str, int]:
        return {"scanned": 0, "archived": 0, "changed": 0}

    def watch_outputs(self, **kwargs: Any) -> None:
        pass

    def stop_outputs_watch(self) -> None:
        pass

    def get_logging_handler(self, level: int = logging.INFO, fmt: Optional[str] = None):
        h = _DiscardHandler(level)
        return h

    def flush(self, timeout: Optional[float] = None) -> bool:
        return True

    def add_tags(self, *tags: str) -> None:
        pass

    def log_artifact(self, artifact: Any, aliases: Any = None) -> None:
        return None

    def use_artifact(self, ref: str) -> Any:
        """Resolves ``ref`` read-only (no use is recorded) so a disabled run can still load its
        inputs; ``LookupError`` when it cannot (SDK.md §4.7)."""
        from .artifacts import artifact
        try:
            return artifact(ref, self._storage)
        except LookupError:
            raise
        except Exception as e:  # noqa: BLE001
            raise LookupError(f"cannot resolve artifact {ref!r}: {e}") from e

    def finish(self, status: str = "finished") -> None:
        pass

    def __enter__(self) -> "NoOpRun":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        return False

    def __repr__(self) -> str:
        return "<runicorn.NoOpRun id='disabled'>"


enabled.NoOpRun = NoOpRun  # type: ignore[attr-defined]  # `runicorn.enabled.NoOpRun` on the function
