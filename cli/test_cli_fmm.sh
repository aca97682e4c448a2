#!/usr/bin/env bash
# cli/test_cli_fmm.sh: end-to-end tests of the facto fmm subcommands. Each group of
# subcommands has its own section below (append new sections at the end).
# Usage: bash cli/test_cli_fmm.sh path/to/facto
set -u

. "$(cd "$(dirname "$0")" && pwd)/testing.sh" "$@"

# === lift and verify over Z/Q ================================================================
# Strassen's scheme over GF(2) (from the search), lifted, re-verified over Z, written as text
# and .npy; a Z scheme read back; wrong and malformed Z/Q files rejected naming the problem.
run "fmm lift --help" 0 "$FACTO" fmm lift --help
has "lift --help has a synopsis" out.txt "facto fmm lift FILE"
has "lift --help has examples" out.txt "EXAMPLES"
run "fmm search 2,2,2 for lifting" 0 "$FACTO" fmm search 2,2,2 --target 7 -j1 --seed 1 -q -o s222.txt
run "lift <2,2,2> rank 7" 0 "$FACTO" fmm lift s222.txt -o z222.txt --out-npy z222
has "lift says Z and +-1" out.txt "lifted to Z with coefficients in {-1, 0, 1}"
has "lift says verified" out.txt "verified exactly"
has "lift file is over Z" z222.txt "field Z"
files "lift --out-npy writes U, V, W" z222 U.npy V.npy W.npy
run "verify the lifted text" 0 "$FACTO" fmm verify z222.txt
has "verify says over Z" out.txt "over Z"
run "verify the lifted npy" 0 "$FACTO" fmm verify z222
has "verify npy says over Z" out.txt "over Z"
run "verify the GF(2) scheme" 0 "$FACTO" fmm verify s222.txt
has "verify GF(2) says GF(2)" out.txt "over GF(2)"
numpy "lifted npy multiplies integer matrices" "
U, V, W = (np.load('z222/' + n + '.npy') for n in 'UVW')
rng = np.random.default_rng(1)
A, B = rng.integers(-9, 10, (2, 2)), rng.integers(-9, 10, (2, 2))
m = np.einsum('rij,ij->r', U, A) * np.einsum('rjk,jk->r', V, B)
C = np.einsum('r,rki->ik', m, W)
sys.exit(0 if np.array_equal(C, A @ B) else 1)"
run "lift to stdout" 0 "$FACTO" fmm lift s222.txt -q
has "stdout holds the scheme" out.txt "field Z"
run "lift a Z file again" 0 "$FACTO" fmm lift z222.txt -o z222b.txt
has "lift of a Z file says so" err.txt "already"
run "lift --method hensel --precision 60" 0 "$FACTO" fmm lift s222.txt --method hensel --precision 60 -o h.txt
has "hensel precision reported" out.txt "2^60"
run "lift --method signs" 0 "$FACTO" fmm lift s222.txt --method signs -o sg.txt
has "sign lifting reported" out.txt "signs"
run "lift --precision 70" 2 "$FACTO" fmm lift s222.txt --precision 70
run "lift --method bogus" 2 "$FACTO" fmm lift s222.txt --method bogus
run "lift missing file" 1 "$FACTO" fmm lift nowhere.txt

run "fmm search 3,3,3 for lifting" 0 "$FACTO" fmm search 3,3,3 --target 23 -j1 --seed 1 -q -o s333.txt
run "lift <3,3,3> rank 23" 0 "$FACTO" fmm lift s333.txt -o z333.txt
has "lift <3,3,3> verified" out.txt "verified exactly"
run "verify lifted <3,3,3>" 0 "$FACTO" fmm verify z333.txt

# A scheme over Q (Strassen with its first term scaled 2u, v/2) verifies over Q.
cat >q222.txt <<'EOF'
fmm 2 2 2
field Q
2,0,0,2 1/2,0,0,1/2 1,0,0,1
0,0,1,1 1,0,0,0 0,1,0,-1
1,0,0,0 0,1,0,-1 0,0,1,1
0,0,0,1 -1,0,1,0 1,1,0,0
1,1,0,0 0,0,0,1 -1,0,1,0
-1,0,1,0 1,1,0,0 0,0,0,1
0,1,0,-1 0,0,1,1 1,0,0,0
EOF
run "verify a Q scheme" 0 "$FACTO" fmm verify q222.txt
has "verify says over Q" out.txt "over Q"
run "lift a Q scheme with an even denominator" 1 "$FACTO" fmm lift q222.txt
has "even denominator explained" err.txt "even denominator"
# One sign wrong: rejected, naming the failing equation.
sed 's/^2,0,0,2 1\/2,0,0,1\/2 1,0,0,1/2,0,0,-2 1\/2,0,0,1\/2 1,0,0,1/' q222.txt >bad222.txt
run "verify a wrong Q scheme" 1 "$FACTO" fmm verify bad222.txt
has "wrong scheme names the equation" err.txt "(a22, b11, c11"
printf 'fmm 2 2 2\nfield Z\n1,0,0 1,0,0,1 1,0,0,1\n' >short.txt
run "verify a malformed Z file" 1 "$FACTO" fmm verify short.txt
has "malformed file names the line" err.txt "short.txt:3"
printf 'fmm 1 1 1\nfield Z\n1 1/2 2\n' >frac.txt
run "verify a fraction in a Z file" 1 "$FACTO" fmm verify frac.txt
has "fraction in Z explained" err.txt "field Q"

finish
