#!/usr/bin/env bash
# cli/test_cli_nmf.sh: end-to-end tests of facto nmf: usage errors, each method on dense and
# sparse input, exact recovery of a planted nonnegative rank-2 matrix, masks and observed-only
# entries, KL, --init FILE.npz, label files (given and found beside the input), report.json, Ctrl-C.
# Usage: bash cli/test_cli_nmf.sh path/to/facto
set -u

. "$(cd "$(dirname "$0")" && pwd)/testing.sh" "$@"

# --- inputs (awk, so most checks run without NumPy) -----------------------------------------
# A = W0 H0, 9x7, exactly rank 2 and nonnegative, with zeros in the factors (unique NMF).
awk 'BEGIN { for (i = 1; i <= 9; i++) for (j = 1; j <= 7; j++) {
    w1 = (i <= 5) ? 1 + i % 3 : 0; w2 = (i >= 4) ? 2 + i % 2 : 0;
    h1 = (j <= 4) ? 1 + j % 2 : 0; h2 = (j >= 3) ? 1 + j % 3 : 0;
    v = w1 * h1 + w2 * h2; if (v != 0) printf "%d %d %.17g\n", i, j, v } }' >A.tns
run "convert A to npy" 0 "$FACTO" convert A.tns A.npy --shape 9,7
# Mask: every entry observed except the five listed as 0 (a dense mask via a .tns with all entries).
awk 'BEGIN { for (i = 1; i <= 9; i++) for (j = 1; j <= 7; j++)
    printf "%d %d %d\n", i, j, ((i * 7 + j) % 11 == 0) ? 0 : 1 }' >mask.tns
run "convert mask to npy" 0 "$FACTO" convert mask.tns mask.npy
# A with garbage where the mask is 0: the fit must not see it.
awk 'NR == FNR { m[$1 " " $2] = $3; next } { v = $3; if (m[$1 " " $2] == 0) v = 1000; print $1, $2, v }' mask.tns A.tns >Ag.tns
awk 'BEGIN { print "1 1 -2"; print "2 2 1" }' >neg.tns
awk 'BEGIN { print "1 1 1 1"; print "2 2 2 2" }' >cube.tns
mkdir -p labelled
cp A.tns labelled/A.tns
for j in 1 2 3 4 5 6 7; do echo "word$j"; done >labelled/vocab.txt
printf 'row\tname\tgroup\n' >labelled/docs.tsv
for i in 1 2 3 4 5 6 7 8 9; do printf '%d\tdoc%d\tg%d\n' "$i" "$i" $((i % 2)); done >>labelled/docs.tsv

# --- help and usage errors ------------------------------------------------------------------
run "nmf --help" 0 "$FACTO" nmf --help
has "nmf --help has a synopsis" out.txt "facto nmf INPUT --rank K"
has "nmf --help has examples" out.txt "EXAMPLES"
has "nmf --help explains masks" out.txt "missing"
run "nmf without --rank" 2 "$FACTO" nmf A.npy
has "missing rank named" err.txt "--rank"
run "nmf --rank 0" 2 "$FACTO" nmf A.npy --rank 0
run "nmf --method bogus" 2 "$FACTO" nmf A.npy --rank 2 --method bogus
has "bad method lists the choices" err.txt "hals|mu|anls"
run "nmf --loss kl with hals" 2 "$FACTO" nmf A.npy --rank 2 --loss kl
has "kl needs mu" err.txt "--method mu"
run "nmf --mask and --observed-only" 2 "$FACTO" nmf A.tns --rank 2 --mask mask.npy --observed-only
run "nmf --observed-only on dense input" 2 "$FACTO" nmf A.npy --rank 2 --observed-only --out o
has "observed-only needs sparse input" err.txt "dense"
run "nmf rank above min(m, n) with NNDSVD" 2 "$FACTO" nmf A.npy --rank 8 --out o
has "NNDSVD bound stated" err.txt "min(m, n) = 7"
run "nmf of a 3-way tensor" 2 "$FACTO" nmf cube.tns --rank 1 --out o
has "nmf wants a matrix" err.txt "expected a matrix"
run "nmf --init bogus" 2 "$FACTO" nmf A.npy --rank 2 --init bogus
run "nmf --labels-cols with a wrong count" 2 "$FACTO" nmf A.npy --rank 2 --labels-cols labelled/docs.tsv --out o
has "label count explained" err.txt "expected 7"
run "nmf missing file" 1 "$FACTO" nmf missing.npy --rank 2
run "nmf of a negative entry" 1 "$FACTO" nmf neg.tns --rank 1 --out o
has "negative entry refused" err.txt ">= 0"
run "nmf mask of another shape" 2 "$FACTO" nmf A.npy --rank 2 --mask neg.tns --out o

# --- each method recovers the planted rank-2 matrix -------------------------------------------
for m in hals anls; do
    for f in A.npy A.tns; do
        run "nmf $m $f" 0 "$FACTO" nmf $f --rank 2 --method $m --max-iters 2000 --tol 0 --out "$m-$f" --progress none
        files "nmf $m $f writes W, H, report" "$m-$f" W.npy H.npy report.json
        json "nmf $m $f recovers A" "$m-$f/report.json" "j['result']['rel_error'] < 1e-6 and j['result']['iters'] == 2000"
    done
done
run "nmf mu" 0 "$FACTO" nmf A.npy --rank 2 --method mu --max-iters 3000 --tol 0 --out mu --progress none
json "nmf mu approaches A" mu/report.json "j['result']['rel_error'] < 0.05"
run "nmf mu kl" 0 "$FACTO" nmf A.tns --rank 2 --method mu --loss kl --max-iters 3000 --tol 0 --out kl --progress none
json "nmf kl reports the divergence" kl/report.json "j['result']['divergence'] is not None and j['result']['divergence'] < 0.5 and 'divergence' in j['history'][0]"
json "report fields" hals-A.npy/report.json "j['command'] == 'nmf' and j['parameters']['method'] == 'hals' and j['parameters']['rank'] == 2 and j['input']['shape'] == [9, 7] and len(j['history']) == 2000 and j['history'][0]['change'] is None and j['timings']['seconds_per_iteration'] > 0"
# (up to the floor of the Gram-matrix error formula, ~sqrt(eps))
json "error never increases" hals-A.npy/report.json "all(b['rel_error'] <= a['rel_error'] * (1 + 1e-9) + 1e-7 for a, b in zip(j['history'], j['history'][1:]))"
json "components sorted by weight" hals-A.npy/report.json "j['result']['component_weights'] == sorted(j['result']['component_weights'], reverse=True)"
run "nmf stops on --tol" 0 "$FACTO" nmf A.npy --rank 2 --tol 1e-3 --out tol --progress none
json "converged before the limit" tol/report.json "j['result']['converged'] and j['result']['iters'] < 200 and j['result']['final_change'] < 1e-3"
run "nmf --progress lines" 0 "$FACTO" nmf A.npy --rank 2 --max-iters 3 --tol 0 --out lines --progress lines
has "progress lines on stderr" err.txt "iter 3"
run "nmf with penalties" 0 "$FACTO" nmf A.npy --rank 2 --l1 0.5 --l2 0.1 --out pen --progress none
json "penalties recorded" pen/report.json "j['parameters']['l1'] == 0.5 and j['parameters']['l2'] == 0.1 and j['result']['rel_error'] > 1e-6"
run "nmf same seed twice" 0 "$FACTO" nmf A.npy --rank 2 --init random --seed 7 --max-iters 20 --out s1 --progress none
run "nmf same seed again" 0 "$FACTO" nmf A.npy --rank 2 --init random --seed 7 --max-iters 20 --out s2 --progress none
if cmp -s s1/W.npy s2/W.npy && cmp -s s1/H.npy s2/H.npy; then pass "same seed, same factors"; else fail "same seed, same factors"; fi

# --- transforms ------------------------------------------------------------------------------
run "nmf --transform log1p" 0 "$FACTO" nmf A.tns --rank 2 --transform log1p --out log1p --progress none
json "log1p recorded, norm of the input unchanged in the report" log1p/report.json "j['parameters']['transform'] == 'log1p' and 0 <= j['result']['rel_error'] < 0.5"
run "nmf --transform tfidf" 0 "$FACTO" nmf A.npy --rank 2 --transform tfidf --out tfidf --progress none
run "nmf --transform tfidf with a mask" 2 "$FACTO" nmf A.npy --rank 2 --transform tfidf --mask mask.npy
run "nmf --transform bogus" 2 "$FACTO" nmf A.npy --rank 2 --transform bogus
if [ "$HAVE_NUMPY" = 1 ]; then
    numpy "tfidf (smooth idf without its + 1, unit rows), then W H" "
A = np.load('A.npy'); W = np.load('tfidf/W.npy'); H = np.load('tfidf/H.npy')
m = A.shape[0]; df = (A != 0).sum(0); T = A * np.log((1 + m) / (1 + df))
T /= np.linalg.norm(T, axis=1, keepdims=True)
import json; r = json.load(open('tfidf/report.json'))['result']['rel_error']
assert abs(np.linalg.norm(T - W @ H) / np.linalg.norm(T) - r) < 1e-6, r"
fi

# --- masks -----------------------------------------------------------------------------------
run "nmf --mask (dense)" 0 "$FACTO" nmf Ag.tns --rank 2 --mask mask.npy --max-iters 3000 --tol 0 --out masked --progress none
json "masked fit ignores the garbage" masked/report.json "j['result']['rel_error'] < 1e-5 and j['parameters']['mask'] == 'mask.npy'"
run "nmf --mask (sparse pattern)" 0 "$FACTO" nmf Ag.tns --rank 2 --mask mask.tns --max-iters 3000 --tol 0 --out masked2 --progress none
json "sparse mask, same fit" masked2/report.json "j['result']['rel_error'] < 1e-5"
run "nmf --mask --method anls" 0 "$FACTO" nmf Ag.tns --rank 2 --mask mask.npy --method anls --max-iters 500 --tol 0 --out masked3 --progress none
json "anls with a mask ignores the garbage" masked3/report.json "j['result']['rel_error'] < 1e-5"
# A positive rank-2 matrix with the masked entries left out.
awk 'NR == FNR { m[$1 " " $2] = $3; next } { i = $1; j = $2; if (m[i " " j] == 1)
    printf "%d %d %.17g\n", i, j, (1 + i % 3) * (1 + j % 2) + (2 + i % 2) * (1 + j % 3) }' mask.tns mask.tns >observed.tns
run "nmf --observed-only" 0 "$FACTO" nmf observed.tns --rank 2 --observed-only --shape 9,7 --max-iters 3000 --tol 0 --out obs --progress none
json "observed-only fit" obs/report.json "j['result']['rel_error'] < 1e-5 and j['parameters']['observed_only']"
# Stored zeros are observed entries: X = [[1,0,2],[0,3,0],[1,3,2]] (rank 2) with its zeros
# written out is fitted exactly, zeros included; dropped, they would be free to take any value.
printf '1 1 1\n1 2 0\n1 3 2\n2 1 0\n2 2 3\n2 3 0\n3 1 1\n3 2 3\n3 3 2\n' >zeros.tns
run "nmf --observed-only keeps stored zeros" 0 "$FACTO" nmf zeros.tns --rank 2 --observed-only --max-iters 5000 --tol 0 --seed 3 --out zobs --progress none
numpy "stored zeros fitted as zeros" "
W = np.load('zobs/W.npy'); H = np.load('zobs/H.npy')
X = np.array([[1, 0, 2], [0, 3, 0], [1, 3, 2]], float)
sys.exit(0 if np.abs(W @ H - X).max() < 1e-4 else 1)"

# --- labels ----------------------------------------------------------------------------------
run "nmf finds labels beside the input" 0 "$FACTO" nmf labelled/A.tns --rank 2 --top 3 --out lab --progress none
has "column labels found" err.txt "column labels: vocab.txt"
has "row labels found (tsv with header)" err.txt "row labels: docs.tsv"
has "summary shows words" out.txt "columns: word"
has "summary shows documents" out.txt "doc"
json "report lists top columns with labels" lab/report.json "len(j['components']) == 2 and j['components'][0]['top_columns'][0]['label'].startswith('word') and j['labels']['columns'] == 'vocab.txt'"
run "nmf --labels-cols given" 0 "$FACTO" nmf A.npy --rank 2 --labels-cols labelled/vocab.txt --top 2 --out lab2 --progress none
has "given labels used" out.txt "word"
run "nmf --top 0" 0 "$FACTO" nmf A.npy --rank 2 --top 0 --out top0 --progress none
if grep -q "component" out.txt; then fail "--top 0 lists nothing"; else pass "--top 0 lists nothing"; fi
run "nmf without labels lists indices" 0 "$FACTO" nmf A.npy --rank 2 --top 3 --out idx --progress none
has "indices for rows" out.txt "rows:"

# --- NumPy checks ----------------------------------------------------------------------------
if [ "$HAVE_NUMPY" = 1 ]; then
    numpy "W, H nonnegative and W H = A" "
A = np.load('A.npy'); W = np.load('hals-A.npy/W.npy'); H = np.load('hals-A.npy/H.npy')
assert W.shape == (9, 2) and H.shape == (2, 7) and (W >= 0).all() and (H >= 0).all()
assert np.linalg.norm(A - W @ H) < 1e-6 * np.linalg.norm(A)"
    numpy "masked fit predicts the missing entries" "
A = np.load('A.npy'); M = np.load('mask.npy'); W = np.load('masked/W.npy'); H = np.load('masked/H.npy')
assert (M == 0).sum() >= 3
assert np.abs((A - W @ H)[M == 0]).max() < 1e-3 * A.max()"
    "$PY" -c "
import numpy as np
rng = np.random.default_rng(0)
np.savez('init.npz', W=rng.random((9, 2)), H=rng.random((2, 7)))
np.savez('badinit.npz', W=rng.random((9, 3)), H=rng.random((2, 7)))"
    run "nmf --init FILE.npz" 0 "$FACTO" nmf A.npy --init init.npz --max-iters 1 --out init --progress none
    json "rank taken from the file" init/report.json "j['parameters']['rank'] == 2"
    numpy "one HALS iteration from the given start" "
A = np.load('A.npy'); W0 = np.load('init.npz')['W']; H0 = np.load('init.npz')['H']
W = W0.copy(); G = H0 @ H0.T; P = A @ H0.T
for r in range(2): W[:, r] = np.maximum(0, W[:, r] + (P[:, r] - W @ G[:, r]) / G[r, r])
H = H0.copy(); G = W.T @ W; Q = W.T @ A
for r in range(2): H[r] = np.maximum(0, H[r] + (Q[r] - G[r] @ H) / G[r, r])
Wf = np.load('init/W.npy'); Hf = np.load('init/H.npy')
# facto sorts the components; compare the products
assert np.allclose(Wf @ Hf, W @ H, rtol=1e-10, atol=1e-12), np.abs(Wf @ Hf - W @ H).max()" 
    run "nmf --init with an inconsistent archive" 1 "$FACTO" nmf A.npy --init badinit.npz --out badinit
    has "inconsistent archive explained" err.txt "expected 9 x K and K x 7"
else
    echo "skip  NumPy checks (no numpy in $PY)"
fi

# --- Ctrl-C: the factors so far and report.json are written, exit 130 -----------------------
awk 'BEGIN { srand(3); for (i = 1; i <= 300; i++) for (j = 1; j <= 200; j++) printf "%d %d %.6f\n", i, j, rand() }' >big.tns
interrupt_after 2 "$FACTO" nmf big.tns --rank 10 --max-iters 1000000 --tol 0 --out intr --progress lines >out.txt 2>err.txt
st=$?
if [ $st -eq 130 ]; then pass "Ctrl-C exits 130"; else fail "Ctrl-C exits 130 (got $st)"; fi
json "Ctrl-C report marked interrupted" intr/report.json "j['result']['interrupted'] is True and len(j['history']) == j['result']['iters'] >= 1"
if [ -s intr/W.npy ] && [ -s intr/H.npy ]; then pass "Ctrl-C still writes the factors"; else fail "Ctrl-C still writes the factors"; fi

finish
