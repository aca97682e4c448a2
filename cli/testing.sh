#!/usr/bin/env bash
# cli/testing.sh: what the end-to-end scripts (cli/test_*.sh) share: a scratch folder to work
# in, pass/fail counting, and checks of exit codes, output text, files, report.json and NumPy
# results. Sourced as: . cli/testing.sh path/to/facto  (sets FACTO, T, PY, HAVE_NUMPY).

FACTO=${1:?usage: test_NAME.sh path/to/facto}
FACTO=$(cd "$(dirname "$FACTO")" && pwd)/$(basename "$FACTO")
T=$(mktemp -d "${TMPDIR:-/tmp}/facto-cli-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok    $1"; }
fail() { failed=$((failed + 1)); echo "FAIL  $1"; }

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3 || true)
HAVE_NUMPY=0
if [ -n "$PY" ] && "$PY" -c "import numpy" 2>/dev/null; then HAVE_NUMPY=1; fi

# run NAME EXPECTED_STATUS CMD...: runs CMD, keeps stdout/stderr in out.txt/err.txt.
run() {
    local name=$1 want=$2
    shift 2
    "$@" >out.txt 2>err.txt
    local got=$?
    if [ "$got" -eq "$want" ]; then
        pass "$name (exit $got)"
    else
        fail "$name: exit $got, expected $want"
        sed 's/^/      stderr: /' err.txt | head -5
    fi
}
# has NAME FILE TEXT: FILE contains TEXT (fixed string).
has() {
    if grep -qF -- "$3" "$2"; then pass "$1"; else
        fail "$1: '$3' not in $2"
        sed 's/^/      /' "$2" | head -5
    fi
}
# files NAME DIR FILE...: every FILE exists in DIR.
files() {
    local name=$1 dir=$2 f missing=""
    shift 2
    for f in "$@"; do [ -f "$dir/$f" ] || missing="$missing $f"; done
    if [ -z "$missing" ]; then pass "$name"; else fail "$name: missing$missing in $dir"; fi
}
# json NAME FILE EXPR: a Python expression over j (the parsed file) is true.
json() {
    if [ -z "$PY" ]; then echo "skip  $1 (no python3)"; return; fi
    if "$PY" -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if ($3) else 1)" "$2" 2>py_err.txt; then
        pass "$1"
    else
        fail "$1: $3"
        sed 's/^/      /' py_err.txt | head -3
    fi
}
# numpy NAME CODE: Python code with numpy as np exits 0 (skipped without NumPy).
numpy() {
    if [ "$HAVE_NUMPY" -eq 0 ]; then echo "skip  $1 (no numpy)"; return; fi
    if "$PY" -c "import numpy as np, sys
$2" 2>py_err.txt; then
        pass "$1"
    else
        fail "$1"
        sed 's/^/      /' py_err.txt | head -3
    fi
}


# finish: the closing line ctest and CI read, and the exit status.
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

# Runs a command, sends it one SIGINT (Ctrl-C) after SECONDS, and returns its exit status.
# --foreground signals the command alone: otherwise timeout also signals its process group,
# and on a loaded machine that second Ctrl-C arrives after the first was handled, which by
# design ends facto at once, before the model is written.
interrupt_after() {
    local seconds=$1
    shift
    timeout --foreground --preserve-status -s INT "$seconds" "$@"
}
