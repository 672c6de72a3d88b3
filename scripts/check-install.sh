#!/usr/bin/env bash
# Installs a build tree into a temporary prefix and checks that the installed `runicorn` finds and
# loads every bundled plugin. Usage: check-install.sh BUILD_DIR
set -euo pipefail
build="$1"
prefix="$(mktemp -d)"
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
export RUNICORN_CONFIG_DIR="$prefix/config" RUNICORN_DIR="$prefix/store"
unset RUNICORN_PLUGIN_PATH RUNICORN_PLUGINS
"$prefix/bin/runicorn" version
out="$("$prefix/bin/runicorn" plugins)"
echo "$out"
for id in storage dedup http remote i18n; do
  if ! grep -Eq "^$id +[^ ]+ +[^ ]+ +loaded +.* $prefix/lib/runicorn/plugins/$id/lib$id\.so\$" <<<"$out"; then
    echo "check-install: plugin '$id' is not loaded from the installed prefix" >&2
    exit 1
  fi
done
echo "install: all plugins load from $prefix"
