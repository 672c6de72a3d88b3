"""Console capture smart/all/none and the logging handler (SDK.md §4.8, §4.9; FORMAT.md §4.5)."""

import io
import logging
import re
import sys
import unittest

import runicorn as rn
from runicorn.console import ConsoleCapture, RunicornLoggingHandler, TeeWriter

from helpers import StoreTest, read_logs

LINE = re.compile(r"^\[\d\d:\d\d:\d\d\] (.*)$")


def captured_lines(run):
    out = []
    for line in read_logs(run.run_dir).split("\n"):
        if line:
            m = LINE.match(line)
            assert m, f"not a console line: {line!r}"
            out.append(m.group(1))
    return out


class ConsoleTest(StoreTest):
    def capture(self, mode, writes):
        fake_out, fake_err = io.StringIO(), io.StringIO()
        old = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = fake_out, fake_err
        try:
            run = self.init(capture_console=True, tqdm_mode=mode)
            self.assertIsInstance(sys.stdout, TeeWriter)
            for w in writes:
                sys.stdout.write(w)
            print("to stderr", file=sys.stderr)
            run.finish()
            self.assertIs(sys.stdout, fake_out)  # restored by finish
            self.assertIs(sys.stderr, fake_err)
        finally:
            sys.stdout, sys.stderr = old
        self.assertEqual(fake_out.getvalue(), "".join(writes))  # the terminal sees it unchanged
        self.assertEqual(fake_err.getvalue(), "to stderr\n")
        return captured_lines(run)

    def test_spec_example_one_write(self):
        self.assertEqual(self.capture("smart", ["a\rb\n"]), ["b", "to stderr"])
        self.assertEqual(self.capture("all", ["a\rb\n"]), ["a", "b", "to stderr"])
        self.assertEqual(self.capture("none", ["a\rb\n"]), ["to stderr"])

    def test_smart_tqdm_bar_leaves_final_state(self):
        writes = ["epoch 1\n", "\r 10%|#", "\r 50%|#####", "\r100%|##########", "\n",
                  "   \n", "partial", " line\n", "pending at stop"]
        self.assertEqual(self.capture("smart", writes),
                         ["epoch 1", "100%|##########", "partial line", "to stderr",
                          "pending at stop"])

    def test_all_emits_segments_at_once(self):
        self.assertEqual(self.capture("all", ["x", "\r 1%", "\r 2%\n", "y\n"]),
                         ["x", " 1%", " 2%", "y", "to stderr"])

    def test_none_skips_writes_with_cr(self):
        self.assertEqual(self.capture("none", ["keep\n", "\r 1%", "\r 2%\n", "also\n"]),
                         ["keep", "also", "to stderr"])

    def test_print_goes_through(self):
        fake = io.StringIO()
        old = sys.stdout
        sys.stdout = fake
        try:
            run = self.init(capture_console=True)
            print("epoch", 1, "loss=0.5")
            run.finish()
        finally:
            sys.stdout = old
        self.assertEqual(fake.getvalue(), "epoch 1 loss=0.5\n")
        self.assertEqual(captured_lines(run), ["epoch 1 loss=0.5"])

    def test_user_replacement_is_left_alone(self):
        old = sys.stdout
        sys.stdout = io.StringIO()
        try:
            run = self.init(capture_console=True)
            mine = io.StringIO()
            sys.stdout = mine
            run.finish()
            self.assertIs(sys.stdout, mine)
        finally:
            sys.stdout = old

    def test_teewriter_dealloc_keeps_its_class(self):
        # Regression: the native dealloc once released the Python subclass's type a second time.
        import gc
        gc.collect()
        before = sys.getrefcount(TeeWriter)
        run = self.init()
        for _ in range(200):
            t = TeeWriter(io.StringIO(), run, "all")
            t.write("x\n")
            del t
        gc.collect()
        self.assertEqual(sys.getrefcount(TeeWriter), before)

    def test_teewriter_forwards_attributes(self):
        buf = io.StringIO()
        t = TeeWriter(buf, None, "smart")
        self.assertIs(t.original, buf)
        self.assertFalse(t.isatty())
        t.writelines(["a", "b\n"])
        t.flush()
        self.assertEqual(buf.getvalue(), "ab\n")
        with self.assertRaises(TypeError):
            TeeWriter(buf, object(), "smart")

    def test_teewriter_rejects_bad_mode(self):
        with self.assertRaises(ValueError):
            TeeWriter(io.StringIO(), None, "bogus")
        with self.assertRaises(ValueError):
            ConsoleCapture(None, "bogus")


class LoggingHandlerTest(StoreTest):
    def test_handler_line_format(self):
        run = self.init()
        log = logging.getLogger("trainer.test")
        log.setLevel(logging.DEBUG)
        h = run.get_logging_handler()
        log.addHandler(h)
        try:
            log.info("saved checkpoint")
            log.debug("not at INFO")
            log.warning("two\nlines")
        finally:
            log.removeHandler(h)
        run.finish()
        lines = read_logs(run.run_dir).split("\n")
        self.assertRegex(lines[0], r"^\d\d:\d\d:\d\d \| INFO \| trainer\.test \| saved checkpoint$")
        self.assertRegex(lines[1], r"^\d\d:\d\d:\d\d \| WARNING \| trainer\.test \| two$")
        self.assertEqual(lines[2], "lines")
        self.assertEqual(len([x for x in lines if x]), 3)

    def test_handler_uses_active_run_and_drops_without(self):
        h = RunicornLoggingHandler(fmt="%(message)s")
        log = logging.getLogger("active.test")
        log.addHandler(h)
        try:
            log.warning("nobody")  # no active run: dropped, no error
            run = self.init()
            log.warning("to active")
            run.finish()
            log.warning("after finish")  # the finished run is no longer active
        finally:
            log.removeHandler(h)
        self.assertEqual(read_logs(run.run_dir), "to active\n")

    def test_log_text_format(self):
        run = self.init()
        run.log_text("hello text")
        run.log_text("multi\nline")
        run.finish()
        lines = read_logs(run.run_dir).split("\n")
        self.assertRegex(lines[0], r"^\d\d:\d\d:\d\d \| hello text$")
        self.assertRegex(lines[1], r"^\d\d:\d\d:\d\d \| multi$")


if __name__ == "__main__":
    unittest.main()
