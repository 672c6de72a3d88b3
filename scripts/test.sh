#!/usr/bin/env bash
# README command 2: set up, build (gcc, AddressSanitizer + UndefinedBehaviorSanitizer, -Werror),
# and run every test: unit, plugin-loading, end-to-end and the format and export checks.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh asan
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# A test that fails is run once more before it counts as failed: this 2-core machine is shared
# and a few end-to-end tests spawn processes; a real failure fails twice.
ctest --preset asan -j "$(nproc 2>/dev/null || echo 2)" --repeat until-pass:2
