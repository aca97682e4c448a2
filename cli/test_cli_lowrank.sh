#!/usr/bin/env bash
# cli/test_cli_lowrank.sh: end-to-end tests of facto svd, facto tucker and facto reconstruct:
# exit codes, usage messages, files written, report.json fields, --tol respected, and exact
# reconstruction at full ranks (checked against NumPy when /usr/bin/python3 has it).
# Usage: bash cli/test_cli_lowrank.sh path/to/facto
set -u

. "$(cd "$(dirname "$0")" && pwd)/testing.sh" "$@"

# --- inputs (written with awk, so the tests run without NumPy) ------------------------------
# A 7x5 dense-valued matrix of full rank as a 1-based .tns (sparse reader) and as .npy.
awk 'BEGIN { for (i = 1; i <= 7; i++) for (j = 1; j <= 5; j++)
    printf "%d %d %.17g\n", i, j, 1 / (i + j - 1) + 0.1 * ((i * 3 + j * 5) % 7) }' >A.tns
# A 6x5x4 tensor with every entry nonzero.
awk 'BEGIN { for (i = 1; i <= 6; i++) for (j = 1; j <= 5; j++) for (k = 1; k <= 4; k++)
    printf "%d %d %d %.17g\n", i, j, k, (1 + i) * (2 + j % 3) * (1 + k) + 0.5 * (7 - i) * j * (5 - k) + ((i * j + k) % 5) }' >X.tns
run "convert matrix to npy" 0 "$FACTO" convert A.tns A.npy
run "convert tensor to npy" 0 "$FACTO" convert X.tns X.npy

# --- help and usage errors ------------------------------------------------------------------
for c in svd tucker reconstruct; do
    run "$c --help" 0 "$FACTO" $c --help
    has "$c --help has a synopsis" out.txt "facto $c"
    has "$c --help has examples" out.txt "EXAMPLES"
done
has "svd --help says V is not transposed" <("$FACTO" svd --help) "NOT transposed"
run "svd without --rank or --tol" 2 "$FACTO" svd A.npy
has "svd neither option named" err.txt "--rank or --tol"
run "svd with --rank and --tol" 2 "$FACTO" svd A.npy --rank 2 --tol 0.1
has "svd both options named" err.txt "not both"
run "svd --rank 0" 2 "$FACTO" svd A.npy --rank 0
run "svd --rank abc" 2 "$FACTO" svd A.npy --rank abc
has "svd bad rank says what was found" err.txt "found 'abc'"
run "svd --rank too large" 2 "$FACTO" svd A.npy --rank 6 --out s
has "svd rank bound stated" err.txt "min(m, n) = 5"
run "svd --tol 0" 2 "$FACTO" svd A.npy --tol 0
run "svd of a 3-way tensor" 2 "$FACTO" svd X.npy --rank 2 --out s
has "svd wants a matrix" err.txt "expected a matrix"
run "svd missing file" 1 "$FACTO" svd missing.npy --rank 2
run "tucker without --ranks or --tol" 2 "$FACTO" tucker X.npy
has "tucker neither option named" err.txt "--ranks or --tol"
run "tucker with --ranks and --tol" 2 "$FACTO" tucker X.npy --ranks 2,2,2 --tol 0.1
run "tucker --ranks bad text" 2 "$FACTO" tucker X.npy --ranks 2,x,2
has "tucker bad ranks say what was found" err.txt "found 'x'"
run "tucker --ranks wrong count" 2 "$FACTO" tucker X.npy --ranks 2,2 --out t
has "tucker rank count explained" err.txt "2 ranks given for the 3-way input"
run "tucker --ranks too large" 2 "$FACTO" tucker X.npy --ranks 7,2,2 --out t
run "tucker --method bogus" 2 "$FACTO" tucker X.npy --ranks 2,2,2 --method bogus
run "reconstruct missing folder" 2 "$FACTO" reconstruct nowhere Y.npy
run "reconstruct bad extension" 2 "$FACTO" reconstruct . Y.weird
mkdir -p empty
run "reconstruct folder without a model" 1 "$FACTO" reconstruct empty Y.npy
has "reconstruct names what it expects" err.txt "core.npy"

# --- svd ------------------------------------------------------------------------------------
run "svd exact --rank 2" 0 "$FACTO" svd A.npy --rank 2 --out s2
files "svd writes U, S, V, report" s2 U.npy S.npy V.npy report.json
json "svd report" s2/report.json "j['model'] == 'svd' and j['result']['rank'] == 2 and 0 < j['result']['rel_error'] < 1"
# Compression ratio everywhere: entries of the data per stored number (> 1: the model is smaller).
json "svd compression ratio = entries / stored" s2/report.json \
    "j['result']['stored_numbers'] == 2 * (7 + 5 + 1) and abs(j['result']['compression_ratio'] - 35 / (2 * (7 + 5 + 1))) < 1e-12"
has "svd prints the compression ratio" out.txt "compression ratio 1.346 (entries / stored numbers)"
run "svd exact full rank" 0 "$FACTO" svd A.npy --rank 5 --out s5
json "svd full rank error ~ 0" s5/report.json "j['result']['rel_error'] < 1e-12"
run "reconstruct svd" 0 "$FACTO" reconstruct s5 A5.npy
numpy "svd full-rank reconstruction equals the input" "
A = np.load('A.npy'); B = np.load('A5.npy')
sys.exit(0 if A.shape == B.shape and np.linalg.norm(A - B) <= 1e-12 * np.linalg.norm(A) else 1)"
numpy "svd rank 2 matches numpy's singular values" "
s = np.linalg.svd(np.load('A.npy'), compute_uv=False); S = np.load('s2/S.npy')
sys.exit(0 if np.allclose(S, s[:2], rtol=1e-12) else 1)"
run "svd --tol 0.05 (exact)" 0 "$FACTO" svd A.npy --tol 0.05 --out st
json "svd exact --tol respected" st/report.json "j['result']['rel_error'] <= 0.05 and j['result']['rank'] >= 1 and j['result']['tol_met']"
run "svd sparse input, randomized --tol" 0 "$FACTO" svd A.tns --tol 0.05 --randomized --seed 3 --out sr
files "randomized svd writes files" sr U.npy S.npy V.npy report.json
json "randomized --tol respected, estimate reported" sr/report.json \
    "j['result']['rel_error'] <= 0.05 and j['result']['rel_error_estimate'] is not None and j['parameters']['method'] == 'randomized'"
run "svd randomized --rank 3" 0 "$FACTO" svd A.npy --rank 3 --randomized --seed 1 --out r3a
run "svd randomized same seed" 0 "$FACTO" svd A.npy --rank 3 --randomized --seed 1 --out r3b
if cmp -s r3a/S.npy r3b/S.npy && cmp -s r3a/U.npy r3b/U.npy; then pass "same seed, same svd"; else fail "same seed, same svd"; fi
run "svd randomized block Krylov" 0 "$FACTO" svd A.npy --rank 3 --randomized --krylov-block 2 --power-iters 1 --seed 1 --out rk
json "block Krylov recorded, error measured" rk/report.json \
    "j['parameters']['krylov_block'] == 2 and j['result']['rank'] == 3 and j['result']['rel_error'] < 1"
run "--krylov-block too small for the rank" 2 "$FACTO" svd A.npy --rank 3 --randomized --krylov-block 1 --power-iters 1 --out rk2
has "names the option and the minimum" err.txt "--krylov-block: the Krylov basis has B (Q + 1) = 2 columns, fewer than --rank 3; expected B >= 2"
run "--krylov-block with --tol" 2 "$FACTO" svd A.npy --tol 0.1 --randomized --krylov-block 2 --out rk3
has "--krylov-block applies with --rank" err.txt "--krylov-block: applies with --rank"
run "reconstruct rank-2 svd as .tns" 0 "$FACTO" reconstruct s2 A2.tns
has "reconstruct says svd" out.txt "svd model"
numpy "reconstructed rank-2 error equals the report" "
import json
A = np.load('A.npy'); U, S, V = (np.load('s2/%s.npy' % n) for n in 'USV')
e = np.linalg.norm(A - (U * S) @ V.T) / np.linalg.norm(A)
sys.exit(0 if abs(e - json.load(open('s2/report.json'))['result']['rel_error']) < 1e-10 else 1)"

# --- tucker ---------------------------------------------------------------------------------
for method in hosvd sthosvd hooi; do
    run "tucker $method full ranks" 0 "$FACTO" tucker X.npy --ranks 6,5,4 --method $method --out tk_$method
    files "tucker $method writes core and factors" tk_$method core.npy factor_0.npy factor_1.npy factor_2.npy report.json
    json "tucker $method full-rank error ~ 0" tk_$method/report.json \
        "j['model'] == 'tucker' and j['result']['ranks'] == [6, 5, 4] and j['result']['rel_error'] < 1e-6"
    run "reconstruct tucker $method" 0 "$FACTO" reconstruct tk_$method Y_$method.npy
    numpy "tucker $method reconstruction equals the input" "
X = np.load('X.npy'); Y = np.load('Y_$method.npy')
sys.exit(0 if X.shape == Y.shape and np.linalg.norm(X - Y) <= 1e-6 * np.linalg.norm(X) else 1)"
done
run "tucker --tol 0.02" 0 "$FACTO" tucker X.npy --tol 0.02 --out tkt
json "tucker --tol respected and bounded" tkt/report.json \
    "j['result']['rel_error'] <= 0.02 and j['result']['error_bound'] <= 0.02 and j['result']['tol_met']"
json "tucker compression ratio = entries / stored" tkt/report.json \
    "abs(j['result']['compression_ratio'] - 120 / j['result']['stored_numbers']) < 1e-12"
json "tucker stored numbers = core + factors" tkt/report.json \
    "(lambda r: j['result']['stored_numbers'] == r[0] * r[1] * r[2] + 6 * r[0] + 5 * r[1] + 4 * r[2])(j['result']['ranks'])"
has "tucker prints the compression ratio" out.txt "(entries / stored numbers)"
run "tucker small ranks compress" 0 "$FACTO" tucker X.npy --ranks 2,2,2 --out tkc
json "tucker compression ratio > 1 when the model is smaller" tkc/report.json \
    "j['result']['stored_numbers'] == 8 + 12 + 10 + 8 and abs(j['result']['compression_ratio'] - 120 / 38) < 1e-12"
run "tucker --threads -1" 2 "$FACTO" tucker X.npy --ranks 2,2,2 --threads -1
run "tucker --threads 1" 0 "$FACTO" tucker X.npy --ranks 2,2,2 --threads 1 --out tk1
json "tucker report records threads" tk1/report.json "j['threads'] == 1"
run "tucker hooi --ranks 2,2,2" 0 "$FACTO" tucker X.npy --ranks 2,2,2 --method hooi --iters 5 --out tkh
json "tucker hooi reports iterations" tkh/report.json "1 <= j['result']['iters'] <= 5 and j['result']['ranks'] == [2, 2, 2]"
numpy "tucker hooi factors are orthonormal" "
U = np.load('tkh/factor_0.npy'); sys.exit(0 if np.allclose(U.T @ U, np.eye(2), atol=1e-10) else 1)"
json "tucker hooi history, one entry per sweep, never increasing" tkh/report.json \
    "len(j['history']) == j['result']['iters'] and [h['iter'] for h in j['history']] == list(range(1, j['result']['iters'] + 1)) and all(b['rel_error'] <= a['rel_error'] + 1e-12 for a, b in zip(j['history'], j['history'][1:])) and abs(j['history'][-1]['rel_error'] - j['result']['rel_error_estimate']) < 1e-15"
has "tucker hooi shows sweeps on stderr (lines when not a terminal)" err.txt "iter 1 "
run "tucker hooi --progress none" 0 "$FACTO" tucker X.npy --ranks 2,2,2 --method hooi --iters 3 --progress none --out tkq
if grep -q "^iter" err.txt; then fail "tucker --progress none prints no sweeps"; else pass "tucker --progress none prints no sweeps"; fi
run "tucker --progress bogus" 2 "$FACTO" tucker X.npy --ranks 2,2,2 --method hooi --progress bogus
run "tucker sthosvd has no history" 0 "$FACTO" tucker X.npy --ranks 2,2,2 --out tkn
json "tucker sthosvd history is null" tkn/report.json "j['history'] is None and j['timings']['iterations'] is None"
run "tucker sparse hooi" 0 "$FACTO" tucker X.tns --ranks 6,5,4 --method hooi --out tks
json "sparse hooi at full ranks" tks/report.json "j['parameters']['sparse'] and j['result']['rel_error'] < 1e-6"
has "sparse hooi states no bound" out.txt "n/a for sparse hooi"
run "tucker sparse hooi, all sweeps" 0 "$FACTO" tucker X.tns --ranks 2,2,2 --method hooi --iters 6 --iter-tol -1 --out tks2
json "sparse hooi history never increases" tks2/report.json \
    "j['result']['iters'] == 6 and len(j['history']) == 6 and all(b['rel_error'] <= a['rel_error'] + 1e-12 for a, b in zip(j['history'], j['history'][1:]))"

# Ctrl-C during HOOI: the model of the last sweep and report.json are written, exit 130.
awk 'BEGIN { s = 12345; for (i = 1; i <= 30; i++) for (j = 1; j <= 30; j++) for (k = 1; k <= 30; k++) {
    s = (s * 1103515245 + 12345) % 2147483648; printf "%d %d %d %.17g\n", i, j, k, s / 2147483648 - 0.5 } }' >R.tns
run "convert the 30^3 tensor" 0 "$FACTO" convert R.tns R.npy
interrupt_after 2 "$FACTO" tucker R.npy --ranks 3,3,3 --method hooi --iters 100000000 --iter-tol -1 \
    --progress lines --out tki >out.txt 2>err.txt
st=$?
if [ $st -eq 130 ]; then pass "tucker hooi Ctrl-C exits 130"; else fail "tucker hooi Ctrl-C exits 130 (got $st)"; fi
json "tucker hooi Ctrl-C report marked interrupted" tki/report.json \
    "j['result']['interrupted'] is True and j['result']['iters'] >= 1 and len(j['history']) == j['result']['iters']"
files "tucker hooi Ctrl-C still writes the model" tki core.npy factor_0.npy factor_1.npy factor_2.npy
has "tucker hooi Ctrl-C says so" err.txt "interrupted"
run "tucker sparse input, sthosvd" 0 "$FACTO" tucker X.tns --ranks 3,3,3 --out tkd
json "sparse sthosvd made dense" tkd/report.json "not j['parameters']['sparse'] and j['result']['rel_error'] < 1"

# --- tt -------------------------------------------------------------------------------------
run "tt --help" 0 "$FACTO" tt --help
has "tt --help has a synopsis" out.txt "facto tt"
run "tt without --tol or --max-ranks" 2 "$FACTO" tt X.npy
has "tt missing options named" err.txt "--tol or --max-ranks"
run "tt --max-ranks wrong count" 2 "$FACTO" tt X.npy --max-ranks 2,2,2 --out tt
has "tt rank count explained" err.txt "expected 1 or 2"
run "tt --max-ranks bad text" 2 "$FACTO" tt X.npy --max-ranks 2,y
run "tt --tol 0.02" 0 "$FACTO" tt X.npy --tol 0.02 --out ttt
files "tt writes cores" ttt core_0.npy core_1.npy core_2.npy report.json
json "tt --tol respected and bounded" ttt/report.json \
    "j['model'] == 'tt' and j['result']['rel_error'] <= 0.02 and j['result']['error_bound'] <= 0.02 and j['result']['ranks'][0] == 1"
run "tt exact (huge caps)" 0 "$FACTO" tt X.tns --max-ranks 100 --out ttx
json "tt exact error ~ 0" ttx/report.json "j['result']['rel_error'] < 1e-12 and j['result']['ranks'] == [1, 6, 4, 1]"
run "reconstruct tt" 0 "$FACTO" reconstruct ttx Ytt.npy
has "reconstruct says tt" out.txt "tt model"
numpy "tt reconstruction equals the input" "
X = np.load('X.npy'); Y = np.load('Ytt.npy')
sys.exit(0 if X.shape == Y.shape and np.linalg.norm(X - Y) <= 1e-12 * np.linalg.norm(X) else 1)"
run "tt --max-ranks 2" 0 "$FACTO" tt X.npy --max-ranks 2 --out tt2
json "tt compression ratio = entries / stored" tt2/report.json \
    "(lambda r: j['result']['stored_numbers'] == sum(r[k] * (6, 5, 4)[k] * r[k + 1] for k in range(3)) and abs(j['result']['compression_ratio'] - 120 / j['result']['stored_numbers']) < 1e-12)(j['result']['ranks'])"
json "tt caps hold" tt2/report.json "max(j['result']['ranks']) <= 2 and j['result']['rel_error'] <= j['result']['error_bound'] * (1 + 1e-8) + 1e-14"
numpy "tt core shapes chain" "
c = [np.load('tt2/core_%d.npy' % k) for k in range(3)]
sys.exit(0 if c[0].shape[0] == 1 and c[2].shape[2] == 1 and c[0].shape[2] == c[1].shape[0] and c[1].shape[2] == c[2].shape[0] else 1)"

# --- sparse inputs too large to make dense --------------------------------------------------
printf '1 1 1.0\n20000 20000 2.0\n3 7 0.5\n' >big2.tns
printf '1 1 1 1.0\n1000 1000 1000 2.0\n3 7 9 0.5\n' >big3.tns
run "exact svd refuses to densify a huge sparse matrix" 1 "$FACTO" svd big2.tns --rank 1 --out sb
has "densify refusal suggests --randomized" err.txt "--randomized"
run "randomized svd keeps it sparse" 0 "$FACTO" svd big2.tns --rank 1 --randomized --oversample 2 --out sb
json "randomized svd of a huge sparse matrix" sb/report.json "abs(j['result']['singular_values'][0] - 2.0) < 1e-10"
run "tucker sthosvd refuses to densify" 1 "$FACTO" tucker big3.tns --ranks 1,1,1 --out tb
has "densify refusal suggests sparse hooi" err.txt "--method hooi"
run "tt refuses to densify" 1 "$FACTO" tt big3.tns --tol 0.1 --out ttb

# --- reconstruct a CP model -----------------------------------------------------------------
run "cp for reconstruct" 0 "$FACTO" cp X.npy --rank 3 --progress none --out cp3
run "reconstruct cp" 0 "$FACTO" reconstruct cp3 Ycp.npy
has "reconstruct says cp" out.txt "cp model"
numpy "cp reconstruction matches its fit" "
import json
X = np.load('X.npy'); Y = np.load('Ycp.npy'); fit = json.load(open('cp3/report.json'))['result']['fit']
sys.exit(0 if abs((1 - np.linalg.norm(X - Y) / np.linalg.norm(X)) - fit) < 1e-8 else 1)"

finish
