#!/usr/bin/env bash
# Installs what a3b needs to build and test on Debian 12 (idempotent; apt only when something is missing).
set -euo pipefail
PACKAGES=(build-essential cmake ninja-build pkg-config git
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev libcpp-httplib-dev libutf8proc-dev libpcre2-dev
  python3 python3-numpy tmux expect clang-14 libclang-rt-14-dev)
missing=()
for p in "${PACKAGES[@]}"; do
  # npm also comes inside NodeSource's nodejs package, which conflicts with Debian's npm package.
  [ "$p" = npm ] && command -v npm >/dev/null 2>&1 && continue
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# Node.js may come from outside Debian (with its own npm); install Debian's only if absent.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
