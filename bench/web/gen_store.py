#!/usr/bin/env python3
"""Writes the B11 (web UI) store in the Runicorn v0.6 layout (spec/FORMAT.md), seeded, standard
library only:

  * --runs N small finished runs (default 100,000) under <project>/<name>/ paths (20 projects x 10
    names), each with meta.json, status.json and summary.json (no events: the run table never
    reads them);
  * one big run bench/big/<id> with --big-steps steps (default 1,000,000) x --big-keys metric keys
    (default 10) in events.jsonl (~406 B per line, BENCHMARKS.md rule 5).

Prints one JSON line: {"root", "runs", "big_run", "big_steps", "big_keys", "seconds"}.
Usage: gen_store.py --root DIR [--runs N] [--big-steps N] [--big-keys K] [--seed S]
"""
import argparse
import json
import math
import os
import random
import time


def run_id(rng, t):
    return time.strftime("%Y%m%d_%H%M%S", time.gmtime(t)) + "_" + "%06x" % rng.getrandbits(24)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--runs", type=int, default=100000)
    ap.add_argument("--big-steps", type=int, default=1000000)
    ap.add_argument("--big-keys", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    t0 = time.time()
    runs = os.path.join(a.root, "runs")
    base = 1735689600.0  # 2025-01-01
    seen = set()
    statuses = ["finished"] * 8 + ["failed", "interrupted"]
    for i in range(a.runs):
        path = "proj%02d/exp%d" % (i % 20, (i // 20) % 10)
        created = base + i * 30.0
        rid = run_id(rng, created)
        while rid in seen:
            rid = run_id(rng, created)
        seen.add(rid)
        d = os.path.join(runs, path, rid)
        os.makedirs(d)
        status = statuses[rng.randrange(len(statuses))]
        write(os.path.join(d, "meta.json"), json.dumps({
            "id": rid, "path": path, "alias": None, "created_at": created, "python": "3.11.2",
            "platform": "Linux", "hostname": "bench", "pid": 1000 + i % 30000, "tags": ["bench"] if i % 7 == 0 else []}))
        write(os.path.join(d, "status.json"), json.dumps({
            "status": status, "started_at": created + 0.01, "ended_at": created + 10 + rng.random() * 3600}))
        write(os.path.join(d, "summary.json"), json.dumps({
            "best_metric_name": "acc", "best_metric_value": round(rng.random(), 6), "best_metric_mode": "max"}))
    # The big run.
    created = base - 86400.0
    big = run_id(rng, created)
    d = os.path.join(runs, "bench", "big", big)
    os.makedirs(d)
    write(os.path.join(d, "meta.json"), json.dumps({
        "id": big, "path": "bench/big", "alias": "big-1M", "created_at": created, "hostname": "bench", "pid": 1}))
    write(os.path.join(d, "status.json"), json.dumps({
        "status": "finished", "started_at": created, "ended_at": created + a.big_steps * 0.01}))
    keys = ["metric_%02d" % k for k in range(a.big_keys)]
    with open(os.path.join(d, "events.jsonl"), "w") as f:
        chunk = []
        for s in range(1, a.big_steps + 1):
            t = created + s * 0.01
            vals = ", ".join('"%s": %.6f' % (k, math.exp(-s / (200000.0 * (j + 1))) + 0.05 * math.sin(s / 997.0 + j)
                                                    + 0.01 * rng.random())
                             for j, k in enumerate(keys))
            chunk.append('{"ts": %.3f, "type": "metrics", "data": {%s, "global_step": %d, "time": %.3f}}\n' % (t, vals, s, t))
            if len(chunk) == 20000:
                f.write("".join(chunk))
                chunk = []
        f.write("".join(chunk))
    print(json.dumps({"root": a.root, "runs": a.runs + 1, "big_run": big, "big_steps": a.big_steps,
                      "big_keys": a.big_keys, "seconds": round(time.time() - t0, 1)}))


if __name__ == "__main__":
    main()
