"""JSON-safe conversion for summary and config (SDK.md §4.4, §4.6)."""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any


def to_json_safe(v: Any, keys_to_str: bool = False, depth: int = 0) -> Any:
    """Numbers, strings, booleans and None as is; numpy/torch scalars through ``item()``;
    ``Path`` as ``str``; lists, tuples and dicts converted member by member; anything else as its
    ``repr``. NaN and infinities are kept (written as NaN/Infinity)."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return v if -(1 << 63) <= v < (1 << 63) else float(v)
    if isinstance(v, float):
        return v
    if depth > 64:
        return repr(v)
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if not isinstance(k, str):
                if isinstance(k, (int, float, bool)):
                    k = str(k)
                elif keys_to_str:
                    k = str(k)
                else:
                    continue
            out[k] = to_json_safe(x, keys_to_str, depth + 1)
        return out
    if isinstance(v, (list, tuple, set, frozenset)):
        return [to_json_safe(x, keys_to_str, depth + 1) for x in v]
    if isinstance(v, os.PathLike):
        return os.fspath(v)
    item = getattr(v, "item", None)
    if callable(item):
        try:
            return to_json_safe(item(), keys_to_str, depth + 1)
        except Exception:
            pass
    tolist = getattr(v, "tolist", None)
    if callable(tolist):
        try:
            return to_json_safe(tolist(), keys_to_str, depth + 1)
        except Exception:
            pass
    if hasattr(v, "__index__"):
        try:
            return int(v.__index__())
        except Exception:
            pass
    if hasattr(v, "__float__"):
        try:
            return float(v)
        except Exception:
            pass
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return to_json_safe(dataclasses.asdict(v), keys_to_str, depth + 1)
    return repr(v)


def finite_json(obj: Any) -> "tuple[str, bool]":
    """JSON text for the core, NaN and infinities kept as Python's NaN/Infinity tokens (the core's
    parser and Runicorn v0.6's readers accept them). Returns the text and False (nothing is ever
    replaced; the flag stays for callers written against the earlier strict core)."""
    return json.dumps(obj, allow_nan=True, ensure_ascii=False), False


def config_to_dict(obj: Any) -> dict:
    """argparse Namespace → vars(); dataclass → asdict; OmegaConf → to_container(resolve=True);
    pydantic → model_dump(); any mapping → dict. Values made JSON-safe."""
    d: Any = obj
    mod = type(obj).__module__ or ""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        d = dataclasses.asdict(obj)
    elif mod.startswith("omegaconf"):
        from omegaconf import OmegaConf  # only when the value is an OmegaConf object
        d = OmegaConf.to_container(obj, resolve=True)
    elif hasattr(obj, "model_dump") and callable(obj.model_dump):
        d = obj.model_dump()
    elif isinstance(obj, dict):
        d = obj
    elif hasattr(obj, "keys") and hasattr(obj, "__getitem__"):
        d = {k: obj[k] for k in obj.keys()}
    elif hasattr(obj, "__dict__"):
        d = vars(obj)
    else:
        raise ValueError(f"config must be a dict, Namespace, dataclass or mapping, got "
                         f"{type(obj).__name__}")
    out = to_json_safe(d, keys_to_str=True)
    if not isinstance(out, dict):
        raise ValueError("config must convert to a JSON object")
    return out
