#!/usr/bin/env python3
"""B1-Python (../shared/BENCHMARKS.md): `run.log({10 floats}, step=i)` through the runicorn
Python package, and the same call through ctypes over the C ABI, to choose between the two
native layers (sdk/python/README.md); plus the console-capture `print` loop.

Prints one JSON object (BENCHMARKS.md envelope). Use a Release build tree:

    cmake --build build/release --target runicorn_python_package
    python3 bench/python/bench_python_log.py --build-dir build/release [--calls 200000] [--reps 5]

Peer: with BENCH_PEER_RUNICORN_SRC pointing at a Runicorn v0.6 checkout's src/, the same loop
runs on v0.6 in a subprocess; otherwise the peer is "skipped" and the reference figure
(26.5 µs p50, 36k calls/s on the project box) is printed for context.
"""

import argparse
import ctypes
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

KEYS = [f"metric_{i}" for i in range(10)]
PEER_REFERENCE = {"caller_ns_p50": 26500, "calls_per_s": 36000}


def percentile(sorted_vals, q):
    if not sorted_vals:
        return 0
    i = min(len(sorted_vals) - 1, int(round(q * (len(sorted_vals) - 1))))
    return sorted_vals[i]


def time_loop(log, calls):
    """Per-call latencies (ns, including ~1 perf_counter_ns pair) and the loop's calls/s."""
    pc = time.perf_counter_ns
    lat = [0] * calls
    vals = [0.1 * k for k in range(10)]
    data = dict(zip(KEYS, vals))
    t0 = pc()
    for i in range(calls):
        data["metric_0"] = i * 0.001
        a = pc()
        log(data, i + 1)
        lat[i] = pc() - a
    total = pc() - t0
    lat.sort()
    return {"p50": percentile(lat, 0.5), "p99": percentile(lat, 0.99),
            "p999": percentile(lat, 0.999), "calls_per_s": calls / (total / 1e9)}


def timer_overhead():
    pc = time.perf_counter_ns
    lat = []
    for _ in range(100000):
        a = pc()
        lat.append(pc() - a)
    lat.sort()
    return percentile(lat, 0.5)


class CtypesRun:
    """The alternative native layer: ctypes over the C ABI (rn_init / rn_log_f64)."""

    class InitOptions(ctypes.Structure):
        _fields_ = [("struct_size", ctypes.c_uint32), ("path", ctypes.c_char_p),
                    ("project", ctypes.c_char_p), ("name", ctypes.c_char_p),
                    ("storage", ctypes.c_char_p), ("run_id", ctypes.c_char_p),
                    ("alias", ctypes.c_char_p), ("tags", ctypes.POINTER(ctypes.c_char_p)),
                    ("tag_count", ctypes.c_size_t), ("resume", ctypes.c_int),
                    ("snapshot_code", ctypes.c_int), ("snapshot_format", ctypes.c_int),
                    ("workspace_root", ctypes.c_char_p), ("capture_env", ctypes.c_int),
                    ("capture_fd", ctypes.c_int), ("tqdm_mode", ctypes.c_int),
                    ("durability", ctypes.c_int), ("flush_interval_ms", ctypes.c_uint32),
                    ("sync_interval_ms", ctypes.c_uint32), ("max_block_ms", ctypes.c_uint32),
                    ("heartbeat_interval_s", ctypes.c_uint32),
                    ("queue_capacity_bytes", ctypes.c_uint64), ("handle_signals", ctypes.c_int),
                    ("writer_language", ctypes.c_char_p), ("python_version", ctypes.c_char_p)]

    def __init__(self, lib_path, storage):
        lib = ctypes.CDLL(lib_path)
        lib.rn_init.argtypes = [ctypes.POINTER(self.InitOptions),
                                ctypes.POINTER(ctypes.c_void_p)]
        lib.rn_log_f64.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p),
                                   ctypes.POINTER(ctypes.c_double), ctypes.c_size_t,
                                   ctypes.c_int64, ctypes.c_char_p]
        lib.rn_finish.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.rn_last_error.restype = ctypes.c_char_p
        o = self.InitOptions()
        lib.rn_init_options_default(ctypes.byref(o))
        self._storage = storage.encode()
        o.storage = self._storage
        o.path = b"bench/ctypes"
        h = ctypes.c_void_p()
        if lib.rn_init(ctypes.byref(o), ctypes.byref(h)) != 0:
            raise RuntimeError(lib.rn_last_error().decode())
        self.lib, self.h = lib, h
        self._log = lib.rn_log_f64

    def log(self, data, step):
        # What a general ctypes wrapper must do per call: encode keys, fill two arrays.
        n = len(data)
        keys = (ctypes.c_char_p * n)(*[k.encode() for k in data])
        vals = (ctypes.c_double * n)(*data.values())
        self._log(self.h, keys, vals, n, step, None)

    def finish(self):
        self.lib.rn_finish(self.h, None)


def bench_ext(rn, storage, calls):
    run = rn.init(storage=storage, path="bench/ext")
    r = time_loop(lambda d, s: run.log(d, step=s), calls)
    t0 = time.perf_counter()
    run.finish()
    r["finish_ms"] = (time.perf_counter() - t0) * 1000
    return r


def bench_ext_direct(rn, storage, calls):
    """The loop as users write it (no lambda): run.log(data, step=i) inline."""
    run = rn.init(storage=storage, path="bench/ext2")
    vals = [0.1 * k for k in range(10)]
    data = dict(zip(KEYS, vals))
    log = run.log
    t0 = time.perf_counter_ns()
    for i in range(calls):
        log(data, step=i + 1)
    total = time.perf_counter_ns() - t0
    run.finish()
    return {"calls_per_s": calls / (total / 1e9), "ns_per_call": total / calls}


def bench_ctypes(lib_path, storage, calls):
    r = CtypesRun(lib_path, storage)
    out = time_loop(r.log, calls)
    r.finish()
    return out


def bench_print(rn, storage, lines):
    """A print loop into a file, without and with capture_console (smart mode)."""
    def loop():
        t0 = time.perf_counter_ns()
        for i in range(lines):
            print("epoch", i, "loss=0.123456")
        return (time.perf_counter_ns() - t0) / lines

    old = sys.stdout
    with open(os.path.join(storage, "print.out"), "w") as f:
        sys.stdout = f
        try:
            plain = loop()
            run = rn.init(storage=storage, path="bench/print", capture_console=True)
            from runicorn.console import TeeWriter
            if not isinstance(sys.stdout, TeeWriter):
                raise RuntimeError("console capture did not start")
            captured = loop()
            run.finish()
        finally:
            sys.stdout = old
    return {"plain_ns_per_print": plain, "captured_ns_per_print": captured}


def bench_peer(calls):
    src = os.environ.get("BENCH_PEER_RUNICORN_SRC")
    if not src:
        return None
    code = f"""
import sys, time, tempfile, json
sys.path.insert(0, {src!r})
import runicorn as rn
run = rn.init(path="bench/peer", storage=tempfile.mkdtemp())
data = {{k: 0.1 for k in {KEYS!r}}}
lat = []
pc = time.perf_counter_ns
t0 = pc()
for i in range({calls}):
    a = pc(); run.log(data, step=i + 1); lat.append(pc() - a)
total = pc() - t0
lat.sort()
print(json.dumps({{"p50": lat[len(lat)//2], "calls_per_s": {calls} / (total / 1e9)}}))
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if r.returncode != 0:
        return {"skipped": r.stderr.strip()[-300:]}
    return json.loads(r.stdout.strip().splitlines()[-1])


def git_commit():
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
    except OSError:
        return ""


def median_of(reps, key):
    vals = [r[key] for r in reps]
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default="build/release")
    ap.add_argument("--calls", type=int, default=200000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--print-lines", type=int, default=100000)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(os.path.abspath(a.build_dir), "python"))
    import runicorn as rn
    lib_path = [os.path.join(os.path.dirname(rn.__file__), f)
                for f in os.listdir(os.path.dirname(rn.__file__))
                if f.startswith("librunicorn_sdk.so")][0]
    os.environ.setdefault("RUNICORN_SILENT", "1")
    ext, ext_direct, cty, prints = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="rn-bench-py-") as tmp:
        for rep in range(a.reps):
            ext.append(bench_ext(rn, os.path.join(tmp, f"e{rep}"), a.calls))
            ext_direct.append(bench_ext_direct(rn, os.path.join(tmp, f"d{rep}"), a.calls))
            cty.append(bench_ctypes(lib_path, os.path.join(tmp, f"c{rep}"), a.calls))
            d = os.path.join(tmp, f"p{rep}")
            os.makedirs(d)
            prints.append(bench_print(rn, d, a.print_lines))
    peer = bench_peer(a.calls)
    result = {
        "calls": a.calls,
        "timer_overhead_ns": timer_overhead(),
        "extension": {"caller_ns_p50": median_of(ext, "p50"), "caller_ns_p99": median_of(ext, "p99"),
                      "caller_ns_p999": median_of(ext, "p999"),
                      "calls_per_s": median_of(ext, "calls_per_s"),
                      "finish_ms": median_of(ext, "finish_ms"),
                      "inline_loop_calls_per_s": median_of(ext_direct, "calls_per_s")},
        "ctypes": {"caller_ns_p50": median_of(cty, "p50"), "caller_ns_p99": median_of(cty, "p99"),
                   "calls_per_s": median_of(cty, "calls_per_s")},
        "print_loop": {"plain_ns_per_print": median_of(prints, "plain_ns_per_print"),
                       "captured_ns_per_print": median_of(prints, "captured_ns_per_print")},
    }
    peer_value = None
    peer_entry = {"name": "runicorn-0.6", "unit": "calls/s"}
    if peer and "calls_per_s" in peer:
        peer_value = peer["calls_per_s"]
        peer_entry["value"] = peer_value
    else:
        peer_entry["skipped"] = (peer or {}).get("skipped", "BENCH_PEER_RUNICORN_SRC not set")
        peer_entry["reference"] = PEER_REFERENCE
    p50 = result["extension"]["caller_ns_p50"]["median"]
    cps = result["extension"]["inline_loop_calls_per_s"]["median"]
    capture_ratio = (result["print_loop"]["captured_ns_per_print"]["median"]
                     / result["print_loop"]["plain_ns_per_print"]["median"])
    ratios = {"caller_ns_p50": p50,
              "calls_per_s/peer": (cps / peer_value) if peer_value else "skipped",
              "calls_per_s/peer_reference": cps / PEER_REFERENCE["calls_per_s"],
              "print_captured/plain": capture_ratio,
              "extension_vs_ctypes_p50": (result["ctypes"]["caller_ns_p50"]["median"] / p50)}
    targets = {"caller_ns_p50": "<=5000", "calls_per_s/peer": ">=5",
               "print_captured/plain": "<=2"}
    ok = p50 <= 5000 and capture_ratio <= 2 and (
        (cps / peer_value >= 5) if peer_value else cps / PEER_REFERENCE["calls_per_s"] >= 5)
    out = {"id": "B1-Python", "name": "sdk_log_python", "commit": git_commit(),
           "host": {"cpus": os.cpu_count(), "cpu": platform.processor(),
                    "kernel": platform.release(), "python": platform.python_version()},
           "pinning": None, "reps": a.reps, "seed": None, "result": result,
           "peer": peer_entry, "ratios": ratios, "targets": targets, "pass": ok}
    text = json.dumps(out, indent=2)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
