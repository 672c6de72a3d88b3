"""Turns the objects ``log_image`` accepts into encoded bytes or a file path (SDK.md §4.4):
bytes-like (already encoded), a path, a PIL image, a numpy array or a torch tensor (HxW, HxWx3,
HxWx4; uint8, or floats in [0, 1] scaled). Arrays use Pillow when installed, else the built-in
PNG encoder below. numpy, torch and PIL are never imported unless the value is one of theirs."""

from __future__ import annotations

import io
import os
import struct
import zlib
from typing import Any, Optional, Tuple


def _png(width: int, height: int, channels: int, rows: bytes) -> bytes:
    """A PNG of 8-bit gray (1), gray+alpha (2), RGB (3) or RGBA (4) pixels; `rows` unfiltered."""
    color = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    stride = width * channels
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        raw += rows[y * stride:(y + 1) * stride]

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(bytes(raw), 6)) + chunk(b"IEND", b""))


def _array_to_png(arr: Any) -> bytes:
    """numpy-like array (has shape, dtype, tolist or tobytes) → PNG bytes."""
    shape = tuple(int(x) for x in arr.shape)
    if len(shape) == 2:
        h, w, c = shape[0], shape[1], 1
    elif len(shape) == 3 and shape[2] in (1, 3, 4):
        h, w, c = shape
    elif len(shape) == 3 and shape[0] in (1, 3, 4):  # CHW (torch)
        arr = arr.transpose(1, 2, 0) if hasattr(arr, "transpose") else arr
        c, h, w = shape
    else:
        raise ValueError(f"unsupported image shape {shape} (HxW, HxWx3 or HxWx4)")
    kind = getattr(getattr(arr, "dtype", None), "kind", "u")
    flat = arr.reshape(-1).tolist() if hasattr(arr, "reshape") else _flatten(arr.tolist())
    if kind == "f":
        data = bytes(max(0, min(255, int(round(float(v) * 255.0)))) for v in flat)
    else:
        data = bytes(max(0, min(255, int(v))) for v in flat)
    return _png(w, h, c, data)


def _flatten(x: Any) -> list:
    out = []
    stack = [x]
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(reversed(v))
        else:
            out.append(v)
    return out


def encode_image(image: Any, fmt: str, quality: int) -> Tuple[Optional[bytes], Optional[str], str]:
    """Returns (bytes or None, file path or None, format)."""
    fmt = (fmt or "png").lower()
    if isinstance(image, (bytes, bytearray, memoryview)):
        return bytes(image), None, fmt
    if isinstance(image, (str, os.PathLike)):
        path = os.fspath(image)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"image file not found: {path}")
        return None, path, fmt
    mod = type(image).__module__ or ""
    if mod.startswith("PIL"):
        buf = io.BytesIO()
        pil_fmt = {"jpg": "JPEG", "jpeg": "JPEG"}.get(fmt, fmt.upper())
        if pil_fmt == "JPEG":
            image.convert("RGB").save(buf, format="JPEG", quality=int(quality))
        else:
            image.save(buf, format=pil_fmt)
        return buf.getvalue(), None, fmt
    if mod.startswith("torch"):
        t = image.detach().cpu()
        if t.dim() == 3 and t.shape[0] in (1, 3, 4) and t.shape[2] not in (1, 3, 4):
            t = t.permute(1, 2, 0)
        image = t.numpy()
    if hasattr(image, "shape") and hasattr(image, "dtype"):
        try:
            from PIL import Image  # optional
        except ImportError:
            return _array_to_png(image), None, "png"
        arr = image
        if getattr(arr.dtype, "kind", "u") == "f":
            arr = (arr.clip(0.0, 1.0) * 255.0).round().astype("uint8")
        if len(arr.shape) == 3 and arr.shape[2] == 1:
            arr = arr[:, :, 0]
        return encode_image(Image.fromarray(arr.astype("uint8")), fmt, quality)
    raise TypeError(f"unsupported image type {type(image).__name__} (bytes, path, PIL image, "
                    "numpy array or torch tensor)")
