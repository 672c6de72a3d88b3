"""Compatibility loggers (SDK.md §4.12)."""

from .torchvision import MetricLogger, SmoothedValue, TorchvisionMetricLogger

__all__ = ["MetricLogger", "SmoothedValue", "TorchvisionMetricLogger"]
