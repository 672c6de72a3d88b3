"""run.log: step rules, values, keys, never raising (SDK.md §1.3, §1.4, §1.7, §4.6)."""

import decimal
import fractions
import math
import threading
import unittest
import warnings

import runicorn as rn

from helpers import StoreTest, read_events, read_json


class NumpyLikeFloat32:
    """Stands in for numpy.float32: item() gives a Python float (v0.6 raised TypeError here)."""

    def __init__(self, v):
        self.v = v

    def item(self):
        return float(self.v)


class TorchLikeScalar:
    """A 0-d tensor: item(); no __float__ needed."""

    def __init__(self, v):
        self.v = v

    def item(self):
        return self.v


class MultiElementArray:
    def item(self):
        raise ValueError("can only convert an array of size 1 to a Python scalar")


class OnlyFloat:
    def __float__(self):
        return 2.5


class OnlyIndex:
    def __index__(self):
        return 7


class LogStepTest(StoreTest):
    def test_step_rules(self):
        run = self.init(path="steps")
        run.log({"a": 1.0})                       # fresh run: 1
        run.log({"a": 2.0})                       # 2
        run.log({"a": 3.0}, step=10)              # explicit: 10
        run.log({"a": 4.0})                       # 11
        run.log({"a": 5.0}, step="20")            # digit string: 20
        run.log({"a": 6.0}, step=30.0)            # integral float: 30
        run.log({"a": 7.0}, step=OnlyIndex())     # __index__: 7
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            run.log({"a": 8.0}, step="abc")       # unconvertible: warning, automatic step 8
        self.assertTrue(any("invalid step" in str(x.message) for x in w))
        run.flush()
        steps = [e["data"]["global_step"] for e in read_events(run.run_dir)]
        self.assertEqual(steps, [1, 2, 10, 11, 20, 30, 7, 8])

    def test_injected_and_dropped_keys(self):
        run = self.init()
        run.log({"loss": 0.5, "global_step": 99, "step": 98, "time": 1.0}, stage="train")
        run.log({"x": 1, "stage": "eval"})
        run.log({"y": 1, "stage": "eval"}, stage="test")
        run.flush()
        ev = read_events(run.run_dir)
        d0 = ev[0]["data"]
        self.assertEqual(list(d0.keys()), ["loss", "global_step", "time", "stage"])
        self.assertEqual(d0["global_step"], 1)
        self.assertEqual(d0["time"], ev[0]["ts"])
        self.assertEqual(d0["stage"], "train")
        self.assertEqual(ev[1]["data"]["stage"], "eval")
        self.assertEqual(list(ev[1]["data"].keys()), ["x", "global_step", "time", "stage"])
        self.assertEqual(ev[2]["data"]["stage"], "test")

    def test_kwargs_merge_and_win(self):
        run = self.init()
        run.log({"a": 1, "b": 2}, b=3, c=4)
        run.log(loss=0.25)
        run.log()
        run.flush()
        ev = read_events(run.run_dir)
        self.assertEqual(ev[0]["data"]["a"], 1)
        self.assertEqual(ev[0]["data"]["b"], 3)
        self.assertEqual(ev[0]["data"]["c"], 4)
        self.assertEqual(ev[1]["data"]["loss"], 0.25)
        self.assertEqual(ev[2]["data"]["global_step"], 3)

    def test_events_line_format(self):
        run = self.init()
        run.log({"loss": 0.5, "acc": 0.7}, stage="train")
        run.flush()
        line = (run.run_dir / "events.jsonl").read_text().splitlines()[0]
        self.assertRegex(line, r'^\{"ts":[0-9.]+,"type":"metrics","data":\{"loss":0\.5,"acc":0\.7,'
                               r'"global_step":1,"time":[0-9.]+,"stage":"train"\}\}$')


class LogValueTest(StoreTest):
    def test_python_values(self):
        run = self.init()
        run.log({"f": 1.5, "i": 3, "b": True, "s": "hi", "n": None, "neg": -2})
        run.flush()
        d = read_events(run.run_dir)[0]["data"]
        self.assertEqual(d["f"], 1.5)
        self.assertEqual(d["i"], 3)
        self.assertIs(type(d["i"]), int)
        self.assertIs(d["b"], True)
        self.assertEqual(d["s"], "hi")
        self.assertIsNone(d["n"])
        self.assertEqual(d["neg"], -2)

    def test_numpy_like_scalars(self):
        run = self.init()
        run.log({"np": NumpyLikeFloat32(0.25), "torch": TorchLikeScalar(3),
                 "dec": decimal.Decimal("1.5"), "frac": fractions.Fraction(1, 4),
                 "flt": OnlyFloat(), "idx": OnlyIndex()})
        run.flush()
        d = read_events(run.run_dir)[0]["data"]
        self.assertEqual(d["np"], 0.25)
        self.assertEqual(d["torch"], 3)
        self.assertEqual(d["dec"], 1.5)
        self.assertEqual(d["frac"], 0.25)
        self.assertEqual(d["flt"], 2.5)
        self.assertEqual(d["idx"], 7)

    def test_nan_and_inf_kept(self):
        run = self.init()
        run.log({"nan": float("nan"), "inf": float("inf"), "ninf": -math.inf})
        run.flush()
        text = (run.run_dir / "events.jsonl").read_text()
        self.assertIn('"nan":NaN', text)
        self.assertIn('"inf":Infinity', text)
        self.assertIn('"ninf":-Infinity', text)
        d = read_events(run.run_dir)[0]["data"]
        self.assertTrue(math.isnan(d["nan"]))

    def test_bad_values_warn_once_and_count(self):
        run = self.init()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            for _ in range(3):
                run.log({"ok": 1.0, "bad": object(), "arr": MultiElementArray()})
        msgs = [str(x.message) for x in w]
        self.assertEqual(sum("'bad'" in m for m in msgs), 1)
        self.assertEqual(sum("'arr'" in m for m in msgs), 1)
        self.assertEqual(run.stats["invalid_values"], 6)
        run.flush()
        ev = read_events(run.run_dir)
        self.assertEqual(len(ev), 3)
        self.assertEqual(list(ev[0]["data"].keys()), ["ok", "global_step", "time"])

    def test_big_int_becomes_float(self):
        run = self.init()
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            run.log({"big": 1 << 70})
        run.flush()
        self.assertEqual(read_events(run.run_dir)[0]["data"]["big"], float(1 << 70))

    def test_keys(self):
        run = self.init()
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            run.log({1: 1.0, 2.5: 2.0, True: 3.0, (1, 2): 4.0, "": 5.0, "x" * 300: 6.0,
                     "nul\0key": 7.0, "ok": 8.0})
        run.flush()
        d = read_events(run.run_dir)[0]["data"]
        self.assertEqual(d["1"], 3.0)  # True == 1: the dict holds one entry for both
        self.assertEqual(d["2.5"], 2.0)
        self.assertEqual(d["ok"], 8.0)
        self.assertEqual(set(d) - {"global_step", "time"}, {"1", "2.5", "ok"})

    def test_never_raises_after_init(self):
        run = self.init()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # even warnings-as-errors must not escape log()
            run.log(5)
            run.log(object())
            run.log({"a": object()})
            run.log({"a": 1}, step=object())
            run.log({"a": 1}, "extra positional")
            run.log_text(object())
            self.assertEqual(run.log_image("k", object()), "")
            self.assertEqual(run.log_image("k", "/no/such/file.png"), "")
        run.finish()
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            run.log({"after": 1.0})
            run.log_text("after")
            run.finish()  # idempotent

    def test_threads_keep_every_record(self):
        run = self.init()

        def worker(k):
            for i in range(500):
                run.log({f"t{k}": float(i)})

        ts = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        run.flush()
        ev = read_events(run.run_dir)
        self.assertEqual(len(ev), 2000)
        self.assertEqual(sorted(e["data"]["global_step"] for e in ev), list(range(1, 2001)))
        for k in range(4):
            vals = [e["data"][f"t{k}"] for e in ev if f"t{k}" in e["data"]]
            self.assertEqual(vals, [float(i) for i in range(500)])  # per-thread order kept

    def test_stats(self):
        run = self.init()
        for i in range(10):
            run.log({"a": i})
        run.flush()
        s = run.stats
        self.assertEqual(s["records_logged"], 10)
        self.assertEqual(s["records_written"], 10)
        self.assertEqual(s["records_dropped"], 0)


if __name__ == "__main__":
    unittest.main()
