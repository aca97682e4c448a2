#!/usr/bin/env bash
# cli/test_cli.sh: end-to-end tests of the facto program: exit codes, messages, output files
# and report.json fields, on tiny inputs written to a temporary folder.
# Usage: bash cli/test_cli.sh path/to/facto
set -u

. "$(cd "$(dirname "$0")" && pwd)/testing.sh" "$@"

# --- inputs -------------------------------------------------------------------------------
# A 6x5x4 tensor of rank 2 with every entry positive, 1-based .tns.
awk 'BEGIN { for (i = 1; i <= 6; i++) for (j = 1; j <= 5; j++) for (k = 1; k <= 4; k++)
    printf "%d %d %d %.17g\n", i, j, k, (1 + i) * (2 + j % 3) * (1 + k) + 0.5 * (7 - i) * j * (5 - k) }' >x.tns
# Malformed: line 3 has too few fields, line 5 a value that is not a number.
printf '1 1 1 1.0\n2 2 2 2.0\n3 3 4.0\n1 2 3 3.0\n2 1 1 abc\n' >bad.tns
# A larger tensor for the Ctrl-C test (rank 10 fits take a while without converging: tol 0).
awk 'BEGIN { srand(7); for (i = 1; i <= 40; i++) for (j = 1; j <= 40; j++) for (k = 1; k <= 40; k++)
    printf "%d %d %d %.6f\n", i, j, k, rand() }' >big.tns

# --- help, version, usage errors ----------------------------------------------------------
run "--help" 0 "$FACTO" --help
has "--help lists commands" out.txt "COMMANDS"
has "--help lists exit codes" out.txt "EXIT STATUS"
has "--help lists formats" out.txt "tns"
run "cp --help" 0 "$FACTO" cp --help
has "cp --help documents --rank" out.txt "--rank R"
has "cp --help shows defaults" out.txt "(default: als)"
has "cp --help has examples" out.txt "EXAMPLES"
run "--version" 0 "$FACTO" --version
has "--version names facto" out.txt "facto "
run "no command" 2 "$FACTO"
has "no command message" err.txt "facto: error:"
run "unknown command" 2 "$FACTO" frobnicate
has "unknown command message" err.txt "facto: error:"
run "cp without --rank" 2 "$FACTO" cp x.tns
has "missing rank named" err.txt "--rank"
run "cp --rank abc" 2 "$FACTO" cp x.tns --rank abc
has "bad rank says what was found" err.txt "found 'abc'"
has "bad rank names the option" err.txt "--rank"
run "cp --rank 0" 2 "$FACTO" cp x.tns --rank 0
run "cp --method bogus" 2 "$FACTO" cp x.tns --rank 2 --method bogus
has "bad method lists the choices" err.txt "als|hals"
run "cp --threads -1" 2 "$FACTO" cp x.tns --rank 2 --threads -1
run "cp --tol x" 2 "$FACTO" cp x.tns --rank 2 --tol x
run "cp --init bogus" 2 "$FACTO" cp x.tns --rank 2 --init bogus
run "cp unknown option" 2 "$FACTO" cp x.tns --rank 2 --frob
run "cp unknown extension" 2 "$FACTO" cp x.weird --rank 2
has "unknown extension lists formats" err.txt "npy"

# --- failures -----------------------------------------------------------------------------
run "cp missing file" 1 "$FACTO" cp missing.tns --rank 2
has "missing file message" err.txt "facto: error:"
run "cp malformed file" 1 "$FACTO" cp bad.tns --rank 2
has "parse error gives file:line" err.txt "bad.tns:3"

# --- check --------------------------------------------------------------------------------
run "check good file" 0 "$FACTO" check x.tns
has "check summary" out.txt "0 errors"
run "check malformed file" 1 "$FACTO" check bad.tns
has "check reports line 3" out.txt "bad.tns:3:"
has "check reports line 5" out.txt "bad.tns:5:"
has "check summary counts errors" out.txt "2 errors"

# --- info ---------------------------------------------------------------------------------
run "info" 0 "$FACTO" info x.tns
has "info nonzeros" out.txt "120"
has "info dimensions" out.txt "6 x 5 x 4"
has "info CSF memory" out.txt "CSF"
run "info --json" 0 "$FACTO" info x.tns --json
cp out.txt info.json
json "info json nnz" info.json "j['nnz'] == 120 and j['shape'] == [6, 5, 4] and j['kind'] == 'sparse'"
json "info json density" info.json "abs(j['density'] - 1.0) < 1e-12"
json "info json memory" info.json "j['memory']['csf_all_bytes'] > 0 and j['memory']['csf_one_bytes'] > 0"
json "info json slices" info.json "[s['nonempty'] for s in j['nonempty_slices']] == [6, 5, 4]"
json "info json range" info.json "j['min'] > 0 and j['max'] >= j['min'] and j['norm'] > 0"

# --- cp -----------------------------------------------------------------------------------
run "cp als" 0 "$FACTO" cp x.tns --rank 2 --iters 300 --tol 1e-12 --seed 3 --out als --progress lines
for f in weights.npy factor_0.npy factor_1.npy factor_2.npy report.json; do
    if [ -s "als/$f" ]; then pass "cp wrote $f"; else fail "cp wrote $f"; fi
done
has "cp prints one line per iteration" err.txt "iter 1 "
has "cp prints the fit" out.txt "fit "
R=als/report.json
json "report parameters" $R "j['parameters']['rank'] == 2 and j['parameters']['method'] == 'als' and j['parameters']['seed'] == 3"
json "report input" $R "j['input']['nnz'] == 120 and j['input']['shape'] == [6, 5, 4] and j['input']['format'] == 'tns'"
json "report history" $R "len(j['history']) == j['result']['iters'] and all(set(h) >= {'fit', 'change', 'seconds'} for h in j['history'])"
json "report timings" $R "all(k in j['timings'] for k in ('read', 'setup', 'iterations', 'total'))"
json "report result fits a rank-2 tensor" $R "j['result']['fit'] > 0.999 and j['result']['interrupted'] is False"
json "report version, date, threads" $R "j['facto_version'] and j['date'].endswith('Z') and j['threads'] >= 1"
json "report files" $R "j['files']['factors'] == ['factor_0.npy', 'factor_1.npy', 'factor_2.npy']"

run "cp same seed again" 0 "$FACTO" cp x.tns --rank 2 --iters 300 --tol 1e-12 --seed 3 --out als2 --progress none
if cmp -s als/factor_0.npy als2/factor_0.npy && cmp -s als/weights.npy als2/weights.npy; then
    pass "same seed, same factors"
else
    fail "same seed, same factors"
fi

run "cp hals" 0 "$FACTO" cp x.tns --rank 2 --method hals --init svd --iters 200 --out hals --progress none
json "hals report" hals/report.json "j['parameters']['method'] == 'hals' and j['parameters']['init'] == 'svd' and j['result']['fit'] > 0.99"

gzip -c x.tns >x.tns.gz
run "cp gzip input" 0 "$FACTO" cp x.tns.gz --rank 2 --iters 50 --out gz --progress none --csf one
json "gzip input recorded" gz/report.json "j['input']['compression'] == 'gz' and j['input']['nnz'] == 120 and j['parameters']['csf'] == 'one'"

run "cp --progress bar" 0 "$FACTO" cp x.tns --rank 2 --iters 5 --tol 0 --out bar --progress bar
has "progress bar shows iteration i/N" err.txt "iter 5/5"
has "progress bar shows the ETA" err.txt "ETA"
run "cp --progress bogus" 2 "$FACTO" cp x.tns --rank 2 --progress bogus
run "cp --out is a file" 1 "$FACTO" cp x.tns --rank 2 --out x.tns
cp x.tns x.txt
run "info --format overrides the extension" 0 "$FACTO" info x.txt --format tns
has "info --format reads the file" out.txt "6 x 5 x 4"

# --- convert ------------------------------------------------------------------------------
run "convert tns -> npy" 0 "$FACTO" convert x.tns y.npy
run "info of converted npy" 0 "$FACTO" info y.npy --json
cp out.txt y.json
json "converted npy is dense 6x5x4" y.json "j['kind'] == 'dense' and j['shape'] == [6, 5, 4] and j['nnz'] == 120"
"$PY" -c "import json,sys; a=json.load(open('info.json')); b=json.load(open('y.json')); sys.exit(0 if abs(a['norm']-b['norm']) <= 1e-12*a['norm'] else 1)" \
    && pass "convert keeps the norm" || fail "convert keeps the norm"
run "convert npy -> tns" 0 "$FACTO" convert y.npy z.tns
run "check converted tns" 0 "$FACTO" check z.tns
run "convert tns -> mtx (3-way)" 1 "$FACTO" convert x.tns y.mtx
run "convert to unknown format" 2 "$FACTO" convert x.tns y.weird
run "cp on dense npy" 0 "$FACTO" cp y.npy --rank 2 --iters 300 --tol 1e-12 --out dense --progress none
json "dense cp fits" dense/report.json "j['input']['kind'] == 'dense' and j['result']['fit'] > 0.999"

# --- NumPy checks: factor files, nonnegativity, --init FILE.npz -------------------------
if [ "$HAVE_NUMPY" = 1 ]; then
    "$PY" - <<'EOF' && pass "npy factors load in NumPy with the right shapes" || fail "npy factors load in NumPy"
import numpy as np, sys
w = np.load("als/weights.npy")
f = [np.load(f"als/factor_{n}.npy") for n in range(3)]
assert w.shape == (2,) and w.dtype == np.float64, w
assert [a.shape for a in f] == [(6, 2), (5, 2), (4, 2)], [a.shape for a in f]
X = np.zeros((6, 5, 4))
for line in open("x.tns"):
    i, j, k, v = line.split()
    X[int(i) - 1, int(j) - 1, int(k) - 1] = float(v)
M = np.einsum("r,ir,jr,kr->ijk", w, *f)
assert np.linalg.norm(X - M) / np.linalg.norm(X) < 1e-3
EOF
    "$PY" -c "import numpy as np; assert all((np.load(f'hals/factor_{n}.npy') >= 0).all() for n in range(3))" \
        && pass "hals factors are nonnegative" || fail "hals factors are nonnegative"
    "$PY" -c "
import numpy as np
r = np.random.default_rng(0)
np.savez('init.npz', U0=r.random((6, 3)), U1=r.random((5, 3)), U2=r.random((4, 3)))
np.savez('wrong.npz', A=r.random((6, 3)), B=r.random((5, 3)), C=r.random((4, 3)))
np.savez('badshape.npz', U0=r.random((7, 3)), U1=r.random((5, 3)), U2=r.random((4, 3)))
np.save('n.npy', r.random((5, 4, 3)))"
    run "cp --init FILE.npz (rank from the file)" 0 "$FACTO" cp x.tns --init init.npz --iters 20 --out init --progress none
    json "rank taken from --init" init/report.json "j['parameters']['rank'] == 3 and j['parameters']['init'] == 'init.npz'"
    run "cp --init with a different --rank" 1 "$FACTO" cp x.tns --init init.npz --rank 2 --out init2
    run "cp --init with wrong member names" 1 "$FACTO" cp x.tns --init wrong.npz --out init3
    has "wrong member names are listed" err.txt "U0"
    run "cp --init with a wrong shape" 1 "$FACTO" cp x.tns --init badshape.npz --out init4
    run "cp --init missing file" 1 "$FACTO" cp x.tns --init nothere.npz --out init5
    run "cp on a NumPy-written npy" 0 "$FACTO" cp n.npy --rank 2 --method hals --iters 30 --out npy --progress none
else
    echo "skip  NumPy checks (no numpy in $PY)"
fi

# --- Ctrl-C: the model so far and report.json are written, exit 130 ----------------------
interrupt_after 2 "$FACTO" cp big.tns --rank 10 --iters 1000000 --tol 0 --out intr --progress lines >out.txt 2>err.txt
st=$?
if [ $st -eq 130 ]; then pass "Ctrl-C exits 130"; else fail "Ctrl-C exits 130 (got $st)"; fi
json "Ctrl-C report marked interrupted" intr/report.json "j['result']['interrupted'] is True and j['result']['iters'] >= 1 and len(j['history']) == j['result']['iters']"
if [ -s intr/factor_2.npy ] && [ -s intr/weights.npy ]; then pass "Ctrl-C still writes the model"; else fail "Ctrl-C still writes the model"; fi
has "Ctrl-C says so" err.txt "interrupted"

# --- demo (the main job) -------------------------------------------------------------------
if [ -e /usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz ]; then
    run "demo" 0 "$FACTO" demo --out demo --progress none --iters 60
    has "demo draws components" out.txt "#1 "
    has "demo names digits" out.txt "strongest component"
    json "demo report" demo/report.json "j['command'] == 'demo' and j['input']['shape'] == [1797, 8, 8] and len(j['demo']['components']) == 10 and j['parameters']['method'] == 'hals'"
    json "demo label counts" demo/report.json "sum(j['demo']['label_counts']) == 1797"
    if [ "$HAVE_NUMPY" = 1 ]; then
        "$PY" -c "import numpy as np; assert np.load('demo/factor_0.npy').shape == (1797, 10) and (np.load('demo/factor_1.npy') >= 0).all()" \
            && pass "demo factors" || fail "demo factors"
    fi
else
    echo "skip  demo (python3-sklearn's digits.csv.gz is not installed)"
fi
run "demo with missing data" 1 "$FACTO" demo --data nothere.csv.gz --out demo2

finish
