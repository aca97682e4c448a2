#!/usr/bin/env bash
# install-deps.sh: installs the Debian packages facto builds, tests and benchmarks with.
# Installs only what is missing; works as root or through sudo.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libopenblas-dev liblapacke-dev
  libcli11-dev libfmt-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  zlib1g-dev liblzma-dev
  python3 python3-numpy python3-sklearn
  # the Python module: bindings, tests, and an offline `pip install --no-build-isolation .`
  pybind11-dev python3-dev python3-scipy python3-pytest
  python3-pip python3-venv python3-setuptools python3-wheel
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
