#!/usr/bin/env bash
# README command 1: set up, build, and start the viewer on http://127.0.0.1:23300 over the default
# storage root. Extra arguments go to `runicorn viewer` (e.g. --port 8080 --storage DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release bundle
exec build/release/bin/runicorn viewer "$@"
