#!/usr/bin/env bash
# ctest check of `pip install --no-build-isolation ./sdk/python` (offline, --no-index) for one
# interpreter: packs the build tree's staged package (RUNICORN_BUILD_DIR) into a wheel, installs it
# into a scratch target directory and logs one record through the installed copy, whose plugins
# must be found inside the package (RUNICORN_PLUGIN_PATH is emptied).
# Usage: pip_install_check.sh <python> <sdk/python dir> <build dir> <scratch dir>
set -euo pipefail
py="$1" src="$2" build="$3" scratch="$4"
rm -rf "$scratch"
mkdir -p "$scratch"
RUNICORN_BUILD_DIR="$build" "$py" -m pip install --no-build-isolation --no-index --no-deps \
  --disable-pip-version-check --target "$scratch/site" "$src" >"$scratch/pip.log" 2>&1 ||
  { cat "$scratch/pip.log"; exit 1; }
cd "$scratch"
PYTHONPATH="$scratch/site" RUNICORN_PLUGIN_PATH= "$py" - "$scratch/store" <<'PY'
import json, pathlib, sys
import runicorn as rn
assert pathlib.Path(rn.__file__).parent == pathlib.Path.cwd() / "site" / "runicorn", rn.__file__
run = rn.init(storage=sys.argv[1], path="pip/check")
run.log({"loss": 0.5}, step=3)
run.finish()
rec = json.loads((run.run_dir / "events.jsonl").read_text().splitlines()[0])
assert rec["data"]["loss"] == 0.5 and rec["data"]["global_step"] == 3, rec
print("pip install check: ok", rn.__version__, sys.version.split()[0])
PY
