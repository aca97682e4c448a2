#!/usr/bin/env bash
# install_package.sh BUILD SOURCE: `cmake --install` works and find_package(facto) finds a
# usable library: the example program builds against the installed tree and decomposes a tensor.
set -euo pipefail
build=$1 src=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
cmake -S "$src/examples" -B "$scratch/build" -DCMAKE_PREFIX_PATH="$scratch/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$scratch/build" -j 2 >/dev/null
# A 4x3x2 rank-1 tensor: CP at rank 1 must fit it exactly.
tns="$scratch/r1.tns"
for i in 1 2 3 4; do for j in 1 2 3; do for k in 1 2; do
  echo "$i $j $k $((i * j * k))"
done; done; done > "$tns"
out=$("$scratch/build/cp_tns" "$tns" 1)
echo "$out"
fit=$(echo "$out" | sed -n 's/.*fit \([0-9.]*\).*/\1/p')
awk -v f="$fit" 'BEGIN { exit !(f > 0.999999) }' || { echo "install_package: fit $fit, expected > 0.999999"; exit 1; }
echo "1 passed, 0 failed"
