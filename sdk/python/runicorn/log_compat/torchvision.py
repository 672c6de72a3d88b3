"""torchvision/DeiT-style ``MetricLogger`` and ``SmoothedValue`` that also log to the active
run (SDK.md §4.12): one new step per ``update()`` call."""

from __future__ import annotations

import datetime
import time
import warnings
from collections import defaultdict, deque
from typing import Any, Iterable, Optional


class SmoothedValue:
    """Tracks a series of values and gives smoothed values over a window or the global average."""

    def __init__(self, window_size: int = 20, fmt: Optional[str] = None) -> None:
        self.deque: deque = deque(maxlen=window_size)
        self.total = 0.0
        self.count = 0
        self.fmt = fmt or "{median:.4f} ({global_avg:.4f})"

    def update(self, value: float, n: int = 1) -> None:
        self.deque.append(value)
        self.count += n
        self.total += value * n

    def synchronize_between_processes(self) -> None:
        try:
            import torch.distributed as dist  # only when torch is installed and initialised
        except ImportError:
            return
        if not (dist.is_available() and dist.is_initialized()):
            return
        import torch
        t = torch.tensor([self.count, self.total], dtype=torch.float64, device="cuda")
        dist.barrier()
        dist.all_reduce(t)
        self.count = int(t[0].item())
        self.total = float(t[1].item())

    @property
    def median(self) -> float:
        s = sorted(self.deque)
        if not s:
            return 0.0
        return float(s[(len(s) - 1) // 2])

    @property
    def avg(self) -> float:
        return float(sum(self.deque) / len(self.deque)) if self.deque else 0.0

    @property
    def global_avg(self) -> float:
        return self.total / self.count if self.count else 0.0

    @property
    def max(self) -> float:
        return float(max(self.deque)) if self.deque else 0.0

    @property
    def value(self) -> float:
        return self.deque[-1] if self.deque else 0.0

    def __str__(self) -> str:
        return self.fmt.format(median=self.median, avg=self.avg, global_avg=self.global_avg,
                               max=self.max, value=self.value)


def _number(v: Any) -> Optional[float]:
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return v
    item = getattr(v, "item", None)
    if callable(item):
        try:
            x = item()
            return x if isinstance(x, (int, float)) else None
        except Exception:
            return None
    return None


class MetricLogger:
    def __init__(self, delimiter: str = "\t") -> None:
        self.meters = defaultdict(SmoothedValue)
        self.delimiter = delimiter

    def update(self, **kwargs: Any) -> None:
        values = {}
        for k, v in kwargs.items():
            if v is None:
                continue
            x = _number(v)
            if x is None:
                warnings.warn(f"runicorn: MetricLogger.update: {k}={v!r} is not a number; "
                              "left out", RuntimeWarning, stacklevel=2)
                continue
            self.meters[k].update(x)
            values[k] = x
        from ..sdk import get_active_run
        run = get_active_run()
        if run is not None and values:
            run.log(values)

    def __getattr__(self, attr: str) -> Any:
        if attr in self.__dict__.get("meters", {}):
            return self.meters[attr]
        if attr in self.__dict__:
            return self.__dict__[attr]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{attr}'")

    def __str__(self) -> str:
        return self.delimiter.join(f"{name}: {meter}" for name, meter in self.meters.items())

    def synchronize_between_processes(self) -> None:
        for meter in self.meters.values():
            meter.synchronize_between_processes()

    def add_meter(self, name: str, meter: SmoothedValue) -> None:
        self.meters[name] = meter

    def log_every(self, iterable: Iterable, print_freq: int, header: Optional[str] = None):
        i = 0
        header = header or ""
        start_time = time.time()
        end = time.time()
        iter_time = SmoothedValue(fmt="{avg:.4f}")
        data_time = SmoothedValue(fmt="{avg:.4f}")
        try:
            n = len(iterable)  # type: ignore[arg-type]
        except TypeError:
            n = 0
        space_fmt = ":" + str(len(str(n))) + "d"
        parts = [header, "[{0" + space_fmt + "}/{1}]", "eta: {eta}", "{meters}",
                 "time: {time}", "data: {data}"]
        log_msg = self.delimiter.join(parts)
        for obj in iterable:
            data_time.update(time.time() - end)
            yield obj
            iter_time.update(time.time() - end)
            if print_freq and (i % print_freq == 0 or i == n - 1):
                eta_seconds = iter_time.global_avg * max(0, n - i)
                eta = str(datetime.timedelta(seconds=int(eta_seconds)))
                print(log_msg.format(i, n, eta=eta, meters=str(self), time=str(iter_time),
                                     data=str(data_time)))
            i += 1
            end = time.time()
        total_time = time.time() - start_time
        total = str(datetime.timedelta(seconds=int(total_time)))
        print(f"{header} Total time: {total} ({total_time / max(i, 1):.4f} s / it)")


TorchvisionMetricLogger = MetricLogger
