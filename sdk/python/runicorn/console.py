"""Console capture and the logging handler (SDK.md §4.8, §4.9).

``ConsoleCapture`` replaces ``sys.stdout``/``sys.stderr`` with ``TeeWriter``s: every write goes
to the original stream unchanged and at once; complete lines also go to logs.txt as
``[HH:MM:SS] <line>`` through the background writer, filtered by the tqdm mode:

- ``smart``: ``\\r`` empties the pending line, ``\\n`` emits it when it has a non-space character;
- ``all``: every ``\\r`` counts as ``\\n``; each non-empty segment is emitted at once;
- ``none``: a write containing ``\\r`` is left out; other writes as in ``all``.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, Optional

from . import _native

_MODES = ("smart", "all", "none")


_MODE_CODES = {"smart": 0, "all": 1, "none": 2}


class TeeWriter(_native.TeeBase):
    """A text stream that writes through to ``original`` and feeds ``run``'s logs.txt.
    ``write`` and the line splitting run in C (the native ``TeeBase``); in a fork child the log
    side is off (the terminal still gets everything). Thread safety: safe for concurrent use
    (guarded by the GIL); writes from several threads that interleave within one line
    interleave in that line, as on the terminal."""

    def __init__(self, original: Any, run: Any, tqdm_mode: str = "smart") -> None:
        if tqdm_mode not in _MODES:
            raise ValueError(f"tqdm_mode must be one of 'smart', 'all', 'none', got {tqdm_mode!r}")
        if run is not None and not isinstance(run, _native.RunBase):
            raise TypeError("run must be a runicorn Run or None")
        super().__init__(original, run, _MODE_CODES[tqdm_mode])

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self.original.flush()

    def __getattr__(self, name: str) -> Any:  # encoding, isatty, fileno, buffer, ...
        return getattr(self.original, name)


class ConsoleCapture:
    """Installs tee writers on ``sys.stdout`` and ``sys.stderr`` for one run. ``stop`` restores
    the original streams only if our writers are still installed."""

    def __init__(self, run: Any, tqdm_mode: str = "smart") -> None:
        if tqdm_mode not in _MODES:
            raise ValueError(f"tqdm_mode must be one of 'smart', 'all', 'none', got {tqdm_mode!r}")
        self.run = run
        self.tqdm_mode = tqdm_mode
        self._out: Optional[TeeWriter] = None
        self._err: Optional[TeeWriter] = None

    def start(self) -> None:
        if self._out is not None:
            return
        self._out = TeeWriter(sys.stdout, self.run, self.tqdm_mode)
        self._err = TeeWriter(sys.stderr, self.run, self.tqdm_mode)
        sys.stdout = self._out
        sys.stderr = self._err

    def stop(self) -> None:
        out, err = self._out, self._err
        self._out = self._err = None
        for tee, name in ((out, "stdout"), (err, "stderr")):
            if tee is None:
                continue
            try:
                tee.flush()
            except Exception:
                pass
            tee.close_log()
            if getattr(sys, name) is tee:
                setattr(sys, name, tee.original)


class LogManager:
    """v0.6 compatibility: starts and stops console capture for a run."""

    def __init__(self, run: Any, tqdm_mode: str = "smart") -> None:
        self._capture = ConsoleCapture(run, tqdm_mode)

    def start(self) -> None:
        self._capture.start()

    def stop(self) -> None:
        self._capture.stop()


_DEFAULT_FMT = "%(asctime)s | %(levelname)s | %(name)s | %(message)s"


class RunicornLoggingHandler(logging.Handler):
    """A ``logging.Handler`` writing each record as one logs.txt write (SDK.md §4.9). The run is
    the one given, else the active run at the time of each record; none → dropped."""

    def __init__(self, run: Any = None, level: int = logging.INFO, fmt: Optional[str] = None) -> None:
        super().__init__(level)
        self._run = run
        self.setFormatter(logging.Formatter(fmt or _DEFAULT_FMT, datefmt="%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            run = self._run
            if run is None:
                from .sdk import get_active_run
                run = get_active_run()
            if run is None or not hasattr(run, "_log_raw"):
                return
            run._log_raw(self.format(record))
        except Exception:
            self.handleError(record)
