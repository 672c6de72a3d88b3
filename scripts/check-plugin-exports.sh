#!/usr/bin/env bash
# STYLE.md rule 25: a plugin's dynamic symbol table exports only the three aliases and the typeinfo
# of interfaces (plus the usual linker symbols). Usage: check-plugin-exports.sh lib.so...
set -euo pipefail
status=0
for lib in "$@"; do
  extra=$(nm -D --defined-only "$lib" | awk '{print $3}' |
    grep -v -E '^(runicorn_plugin_abi_version|runicorn_plugin_build_tag|runicorn_create_plugin)$' |
    grep -v -E '^_ZT[ISV]N8runicorn' | grep -v -E '^(_init|_fini|_edata|_end|__bss_start)$' || true)
  if [[ -n "$extra" ]]; then
    echo "$lib exports more than it should:" >&2
    echo "$extra" | c++filt | sed 's/^/  /' >&2
    status=1
  fi
  for sym in runicorn_plugin_abi_version runicorn_plugin_build_tag runicorn_create_plugin; do
    if ! nm -D --defined-only "$lib" | grep -q " $sym\$"; then
      echo "$lib does not export $sym" >&2
      status=1
    fi
  done
done
[[ $status -eq 0 ]] && echo "exports: $# plugin(s) clean"
exit $status
