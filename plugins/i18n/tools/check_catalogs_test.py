#!/usr/bin/env python3
"""Tests of check_catalogs.py on small made-up trees: each defect the check exists for is
reported with its message, and a clean tree passes."""

import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_catalogs  # noqa: E402


class CheckCatalogsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name
        self.catalog("en", "cli", {"ls": {"no_runs": "no runs"},
                                   "deleted": "deleted {{id}}",
                                   "runs_one": "{{count}} run", "runs_other": "{{count}} runs"})
        self.catalog("zh-CN", "cli", {"ls": {"no_runs": "没有运行记录"},
                                      "deleted": "已删除 {{id}}",
                                      "runs_other": "{{count}} 条运行记录"})
        self.source("kernel/cli/ls.cpp",
                    'tr("ls.no_runs"); tr("deleted", {{"id", id}}); tr_n("runs", n);\n'
                    "// don't pair this apostrophe with 'x' or a backtick `\n")
        self.allowlist = os.path.join(self.root, "allow.txt")

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, rel, text):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def catalog(self, lang, ns, obj, plugin="i18n"):
        return self.write(f"plugins/{plugin}/locales/{lang}/{ns}.json",
                          json.dumps(obj, ensure_ascii=False))

    def source(self, rel, text):
        self.write(rel, text)

    def check(self, extra=()):
        return check_catalogs.Checker(self.root, extra, self.allowlist).run()

    def test_a_clean_tree_passes(self):
        self.assertEqual(self.check(), [])

    def test_invalid_json_and_duplicate_keys_are_reported(self):
        path = self.write("plugins/i18n/locales/zh-CN/broken.json", "{not json")
        dup = self.write("plugins/i18n/locales/zh-CN/dup.json", '{"a": "x", "a": "y"}')
        problems = self.check()
        self.assertTrue(any(p.startswith(f"{path}: not valid JSON") for p in problems), problems)
        self.assertIn(f"{dup}: key 'a' appears twice in one object", problems)

    def test_non_string_leaf_is_reported(self):
        path = self.catalog("zh-CN", "extra", {"n": 3})
        self.assertIn(f"{path}: 'n' must be a string or an object, not int", self.check())

    def test_missing_and_unknown_keys(self):
        self.catalog("zh-CN", "cli", {"ls": {"no_runs": "没有运行记录"},
                                      "runs_other": "{{count}} 条", "extra": "多余"})
        problems = self.check()
        self.assertIn("zh-CN: missing 'cli:deleted'", problems)
        self.assertIn("zh-CN: 'cli:extra' is not an en key", problems)

    def test_plural_forms_follow_the_language(self):
        self.catalog("zh-CN", "cli", {"ls": {"no_runs": "没有"}, "deleted": "已删除 {{id}}",
                                      "runs_one": "{{count}} 条"})
        self.catalog("en", "cli", {"ls": {"no_runs": "no runs"}, "deleted": "deleted {{id}}",
                                   "runs_other": "{{count}} runs"})
        problems = self.check()
        self.assertIn("zh-CN: missing plural form 'cli:runs_other'", problems)
        self.assertIn("en: missing plural form 'cli:runs_one'", problems)

    def test_variables_must_match_en(self):
        self.catalog("zh-CN", "cli", {"ls": {"no_runs": "没有"}, "deleted": "已删除 {{name}}",
                                      "runs_other": "运行记录"})
        problems = self.check()
        self.assertIn("zh-CN: 'cli:deleted' has variables ['name'], en has ['id']", problems)
        # {{count}} may be left out of a plural form.
        self.assertFalse(any("cli:runs_other" in p for p in problems), problems)

    def test_unused_key_fails_unless_allowlisted_with_a_reason(self):
        self.catalog("en", "cli", {"ls": {"no_runs": "no runs"}, "deleted": "deleted {{id}}",
                                   "runs_one": "{{count}} run", "runs_other": "{{count}} runs",
                                   "dynamic": "x"})
        self.catalog("zh-CN", "cli", {"ls": {"no_runs": "没有"}, "deleted": "已删除 {{id}}",
                                      "runs_other": "{{count}} 条", "dynamic": "x"})
        problems = self.check()
        self.assertTrue(any(p.startswith("en: 'cli:dynamic' is not used in kernel/cli")
                            for p in problems), problems)
        self.write("allow.txt", "cli:dynamic\n")
        self.assertIn(f"{self.allowlist}:1: 'cli:dynamic' needs a reason after the key",
                      self.check())
        self.write("allow.txt", "# comment\ncli:dynamic  built from a state name\n"
                                "cli:gone  no longer exists\n")
        self.assertEqual(self.check(),
                         [f"{self.allowlist}:3: 'cli:gone' is not an en key (remove it)"])

    def test_keys_are_looked_for_in_their_namespace_sources(self):
        # A cli key named only in a test file or outside kernel/cli is unused.
        self.source("kernel/cli/ls.cpp", 'tr("deleted"); tr_n("runs", n);\n')
        self.source("kernel/cli/ls_test.cpp", 'tr("ls.no_runs");\n')
        self.source("plugins/http/src/x.cpp", '"ls.no_runs"\n')
        problems = self.check()
        self.assertTrue(any(p.startswith("en: 'cli:ls.no_runs' is not used") for p in problems))

    def test_web_keys_are_found_in_the_web_sources(self):
        self.catalog("en", "web", {"nav": {"runs": "Runs"}})
        self.catalog("zh-CN", "web", {"nav": {"runs": "运行记录"}})
        self.assertTrue(any("'web:nav.runs' is not used" in p for p in self.check()))
        self.source("plugins/http/web/src/App.tsx", "const x = t('nav.runs');\n")
        self.assertEqual(self.check(), [])

    def test_a_partial_extra_locale_needs_no_completeness(self):
        de = os.path.join(self.root, "fixture")
        self.write("fixture/de/cli.json", json.dumps({"ls": {"no_runs": "keine Läufe"}}))
        self.assertEqual(self.check([de]), [])
        self.write("fixture/de/cli.json", json.dumps({"deleted": "gelöscht {{name}}",
                                                      "nope": "x"}))
        problems = self.check([de])
        self.assertIn("de (extra): 'cli:deleted' has variables ['name'], en has ['id']", problems)
        self.assertIn("de (extra): 'cli:nope' is not an en key", problems)

    def test_catalogs_of_other_plugins_are_shipped_too(self):
        self.catalog("en", "remote", {"title": "Remote"}, plugin="remote")
        problems = self.check()
        self.assertIn("zh-CN: missing 'remote:title'", problems)


if __name__ == "__main__":
    unittest.main()
