#!/usr/bin/env python3
"""The catalog check of issue 7 (DESIGN.md "Locales as data", API.md §4.8).

Fails (exit 1, one line per problem) unless:
  * every catalog file (plugins/*/locales/<lang>/<ns>.json and the --extra locale dirs) is valid
    UTF-8 JSON: an object whose leaves are strings, with no key repeated in an object;
  * every shipped locale (a <lang> directory under plugins/*/locales) has every key of en, and no
    key en lacks; plural keys (i18next suffixes _one, _other, ...) need the forms of the
    locale's language (en: _one and _other; zh: _other);
  * every text has the same {{variables}} as its en counterpart ({{count}} may be left out of a
    plural form);
  * no key is unused: each en key (a plural key by its base) appears as a string literal in the
    sources of its namespace (NAMESPACE_SOURCES), with or without "<ns>:" / "<ns>." in front, or
    is listed in the allowlist (dynamic_keys.txt) with a reason.
A partial locale in --extra (a test fixture) is checked for valid JSON, keys that en has, and
matching variables, but not for completeness.

Standard library only; run from anywhere: check_catalogs.py [--root REPO] [--extra DIR ...].
"""

import argparse
import glob
import json
import os
import re
import sys

PLURAL_SUFFIXES = ("_zero", "_one", "_two", "_few", "_many", "_other")
VAR = re.compile(r"\{\{\s*([A-Za-z0-9_.]+)\s*\}\}")
# String literals of C++, TypeScript and JavaScript ("...", '...', `...`), escapes allowed.
LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'|`((?:[^`\\]|\\.)*)`')
CPP_LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
SOURCE_EXTENSIONS = (".cpp", ".hpp", ".h", ".cc", ".ts", ".tsx", ".js", ".jsx")
# Where the keys of a namespace are used. A namespace not listed is looked for everywhere.
NAMESPACE_SOURCES = {
    "cli": ["kernel/cli"],
    "errors": ["plugins/*/src", "kernel/src", "kernel/include", "kernel/cli"],
    "web": ["plugins/http/web/src"],
}
ALL_SOURCES = ["kernel/cli", "kernel/src", "kernel/include", "plugins/*/src",
               "plugins/http/web/src"]


def plural_forms(lang):
    """The i18next plural suffixes a language uses (CLDR cardinal categories we support)."""
    base = lang.split("-")[0].split("_")[0].lower()
    if base in ("zh", "ja", "ko", "vi", "th", "id"):
        return ("_other",)
    return ("_one", "_other")


def split_plural(key):
    for suffix in PLURAL_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)], suffix
    return key, None


def variables(text):
    return set(VAR.findall(text))


class Checker:
    def __init__(self, root, extra_dirs=(), allowlist=None):
        self.root = root
        self.extra_dirs = list(extra_dirs)
        self.allowlist_path = allowlist or os.path.join(
            root, "plugins", "i18n", "tools", "dynamic_keys.txt")
        self.problems = []
        self.notes = []

    def problem(self, text):
        self.problems.append(text)

    # -- loading -------------------------------------------------------------------------------
    def load_file(self, path):
        """The flattened {dotted.key: text} of one catalog file, or None when it is invalid."""
        def no_duplicates(pairs):
            seen = {}
            for k, v in pairs:
                if k in seen:
                    self.problem(f"{path}: key '{k}' appears twice in one object")
                seen[k] = v
            return seen
        try:
            with open(path, "rb") as f:
                data = json.loads(f.read().decode("utf-8"), object_pairs_hook=no_duplicates)
        except (UnicodeDecodeError, ValueError) as e:
            self.problem(f"{path}: not valid JSON: {e}")
            return None
        if not isinstance(data, dict):
            self.problem(f"{path}: the top level must be an object")
            return None
        flat = {}

        def walk(obj, prefix):
            for k, v in obj.items():
                key = f"{prefix}.{k}" if prefix else k
                if isinstance(v, dict):
                    walk(v, key)
                elif isinstance(v, str):
                    flat[key] = v
                else:
                    self.problem(f"{path}: '{key}' must be a string or an object, not "
                                 f"{type(v).__name__}")
        walk(data, "")
        return flat

    def load_dirs(self, dirs):
        """{lang: {"ns:key": text}} merged from locales dirs (first one wins, as the plugin)."""
        out = {}
        for d in dirs:
            for lang in sorted(os.listdir(d)):
                lang_dir = os.path.join(d, lang)
                if not os.path.isdir(lang_dir):
                    continue
                for name in sorted(os.listdir(lang_dir)):
                    if not name.endswith(".json"):
                        continue
                    flat = self.load_file(os.path.join(lang_dir, name))
                    if flat is None:
                        continue
                    ns = name[: -len(".json")]
                    for k, v in flat.items():
                        out.setdefault(lang, {}).setdefault(f"{ns}:{k}", v)
        return out

    # -- checks --------------------------------------------------------------------------------
    def check_against_en(self, lang, catalog, en, complete):
        en_bases = {}
        for key in en:
            base, suffix = split_plural(key)
            en_bases.setdefault(base, set()).add(suffix)
        for key, text in sorted(catalog.items()):
            base, suffix = split_plural(key)
            if base not in en_bases:
                self.problem(f"{lang}: '{key}' is not an en key")
                continue
            if suffix is None:
                counterpart = en.get(key)
            else:
                counterpart = en.get(base + "_other", en.get(key))
            if counterpart is None:
                self.problem(f"{lang}: '{key}' is not an en key")
                continue
            want, have = variables(counterpart), variables(text)
            if suffix is not None:
                want, have = want - {"count"}, have - {"count"}
            if want != have:
                self.problem(f"{lang}: '{key}' has variables {sorted(have)}, en has "
                             f"{sorted(want)}")
        if not complete:
            return
        for base, suffixes in sorted(en_bases.items()):
            if suffixes == {None}:
                if base not in catalog:
                    self.problem(f"{lang}: missing '{base}'")
                continue
            for form in plural_forms(lang):
                if base + form not in catalog:
                    self.problem(f"{lang}: missing plural form '{base}{form}'")

    def source_literals(self, patterns):
        literals = set()
        for pattern in patterns:
            for top in glob.glob(os.path.join(self.root, pattern)):
                for dirpath, dirnames, filenames in os.walk(top):
                    dirnames[:] = [d for d in dirnames if d not in ("node_modules", "dist")]
                    for name in filenames:
                        if not name.endswith(SOURCE_EXTENSIONS) or "_test." in name or \
                                ".test." in name:
                            continue
                        with open(os.path.join(dirpath, name), encoding="utf-8",
                                  errors="replace") as f:
                            text = f.read()
                        # C++ has no '...' or `...` strings, and apostrophes and backticks in
                        # its comments would pair up wrongly.
                        script = name.endswith((".ts", ".tsx", ".js", ".jsx"))
                        for m in (LITERAL if script else CPP_LITERAL).finditer(text):
                            literals.add(next(g for g in m.groups() if g is not None))
        return literals

    def load_allowlist(self, en):
        allowed = {}
        if not os.path.exists(self.allowlist_path):
            return allowed
        with open(self.allowlist_path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                parts = line.split(None, 1)
                where = f"{self.allowlist_path}:{n}"
                if len(parts) < 2:
                    self.problem(f"{where}: '{parts[0]}' needs a reason after the key")
                    continue
                key = parts[0]
                if ":" not in key:
                    self.problem(f"{where}: '{key}' must be written <namespace>:<key>")
                    continue
                if not any(split_plural(k)[0] == key for k in en):
                    self.problem(f"{where}: '{key}' is not an en key (remove it)")
                    continue
                allowed[key] = parts[1]
        return allowed

    def check_usage(self, en):
        allowed = self.load_allowlist(en)
        cache = {}
        for base in sorted({split_plural(k)[0] for k in en}):
            ns, path = base.split(":", 1)
            patterns = tuple(NAMESPACE_SOURCES.get(ns, ALL_SOURCES))
            if patterns not in cache:
                cache[patterns] = self.source_literals(patterns)
            literals = cache[patterns]
            used = path in literals or f"{ns}:{path}" in literals or f"{ns}.{path}" in literals
            if used and base in allowed:
                self.notes.append(f"note: '{base}' is in the allowlist but used literally")
            if not used and base not in allowed:
                self.problem(f"en: '{base}' is not used in {', '.join(patterns)} (remove it, or "
                             f"list it in {os.path.relpath(self.allowlist_path, self.root)} "
                             f"with a reason)")

    def run(self):
        shipped_dirs = sorted(glob.glob(os.path.join(self.root, "plugins", "*", "locales")))
        shipped = self.load_dirs(shipped_dirs)
        en = shipped.get("en")
        if not en:
            self.problem("no en catalog under plugins/*/locales")
            return self.problems
        for lang in sorted(shipped):
            if lang != "en":
                self.check_against_en(lang, shipped[lang], en, complete=True)
            else:
                self.check_against_en("en", en, en, complete=True)
        extra = self.load_dirs(self.extra_dirs)
        for lang in sorted(extra):
            self.check_against_en(f"{lang} (extra)", extra[lang], en, complete=False)
        self.check_usage(en)
        return self.problems


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.path.normpath(os.path.join(here, "..", "..", "..")))
    parser.add_argument("--extra", action="append", default=[],
                        help="a locales/ dir of a partial locale (test fixtures)")
    parser.add_argument("--allowlist", default=None)
    args = parser.parse_args(argv)
    checker = Checker(args.root, args.extra, args.allowlist)
    problems = checker.run()
    for note in checker.notes:
        print(note)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} catalog problem(s)")
        return 1
    print("catalogs OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
