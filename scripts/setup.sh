#!/usr/bin/env bash
# Installs every system package Runicorn's build, tests and web UI need on Debian 12.
# Idempotent and fast when everything is present: apt-get runs only for what is missing.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build ccache pkg-config make git
  # libraries
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsqlite3-dev sqlite3 libssl-dev libssh2-1-dev libspdlog-dev libfmt-dev
  libcli11-dev libsimdjson-dev libarchive-dev zlib1g-dev
  # tests, benchmarks and tooling
  googletest libgtest-dev libgmock-dev libbenchmark-dev clang-format curl procps
  # HTTP benchmarks (B6: wrk against nginx)
  wrk nginx-light
  # Python SDK
  python3 python3-dev python3-pip
  # web UI browser tests: headless Chromium (driven by playwright-core) and a CJK font for 简体中文
  chromium fonts-wqy-microhei
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# Node.js + npm build the web UI; any Node.js >= 18 already on the machine will do.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if ((${#missing[@]} > 0)); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then
    sudo_cmd=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi
