#!/usr/bin/env bash
# Configures and builds one CMake preset (default: release), optionally only some targets.
# Usage: scripts/build.sh [preset [target...]]
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
shift || true
jobs="$(nproc 2>/dev/null || echo 2)"
if command -v ccache >/dev/null 2>&1; then
  export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
  # Paths under the checkout are hashed relative to it, so two clones share cache hits.
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
  ccache --max-size=5G >/dev/null 2>&1 || true
fi
cmake --preset "$preset" >/dev/null
targets=()
if (($# > 0)); then
  targets=(--target "$@")
fi
cmake --build --preset "$preset" -j "$jobs" "${targets[@]}"
