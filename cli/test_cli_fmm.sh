#!/usr/bin/env bash
# cli/test_cli_fmm.sh: end-to-end tests of the facto fmm subcommands. Each group of
# subcommands has its own section below (append new sections at the end).
# Usage: bash cli/test_cli_fmm.sh path/to/facto
set -u

SCHEMES="$(cd "$(dirname "$0")/.." && pwd)/bench/schemes"  # before testing.sh moves to a scratch folder
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


# === codegen and bench (kernels) ================================================================
# Strassen's published scheme over Z: generated C++ for 1 and 2 levels (compiled with g++ and
# run against a naive product when g++ and OpenBLAS are there), a GF(2) scheme lifted on the
# fly, the bench table, and bad arguments.
cat >strassen.txt <<'END_SCHEME'
fmm 2 2 2
field Z
1,0,0,1 1,0,0,1 1,0,0,1
0,0,1,1 1,0,0,0 0,1,0,-1
1,0,0,0 0,1,0,-1 0,0,1,1
0,0,0,1 -1,0,1,0 1,1,0,0
1,1,0,0 0,0,0,1 -1,0,1,0
-1,0,1,0 1,1,0,0 0,0,0,1
0,1,0,-1 0,0,1,1 1,0,0,0
END_SCHEME
run "fmm codegen --help" 0 "$FACTO" fmm codegen --help
has "codegen --help has a synopsis" out.txt "facto fmm codegen FILE"
run "fmm bench --help" 0 "$FACTO" fmm bench --help
has "bench --help has a synopsis" out.txt "facto fmm bench FILE"
run "codegen Strassen 1 level" 0 "$FACTO" fmm codegen strassen.txt --levels 1 --name strassen1 -o s1.cpp
has "codegen counts Strassen's additions" out.txt "7 products and 18 additions per level"
has "codegen wrote the file" out.txt "wrote s1.cpp"
has "generated source calls dgemm" s1.cpp "cblas_dgemm("
run "codegen Strassen 2 levels, double only" 0 "$FACTO" fmm codegen strassen.txt --levels 2 --name strassen2 --type double -o s2.cpp
has "2-level source says so" s2.cpp "constexpr int levels = 2;"
if grep -qF "cblas_sgemm(" s2.cpp; then fail "--type double emits no sgemm"; else pass "--type double emits no sgemm"; fi
run "codegen to stdout" 0 "$FACTO" fmm codegen strassen.txt -q
has "stdout holds the source" out.txt "namespace fmm {"
run "codegen of a GF(2) scheme lifts it" 0 "$FACTO" fmm codegen s222.txt -o g.cpp
has "codegen says it lifted" err.txt "lifted to Z"
run "codegen --levels 3" 2 "$FACTO" fmm codegen strassen.txt --levels 3
run "codegen --name 9x" 2 "$FACTO" fmm codegen strassen.txt --name 9x
run "codegen --type half" 2 "$FACTO" fmm codegen strassen.txt --type half
run "codegen of a wrong scheme" 1 "$FACTO" fmm codegen bad222.txt
has "wrong scheme: failing equation named" err.txt "(a22, b11, c11"
run "codegen of a missing file" 1 "$FACTO" fmm codegen nowhere.txt

# The generated code against a naive product at odd sizes (peeling), double and float.
cat >driver.cpp <<'END_DRIVER'
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <tuple>
#include <vector>
namespace strassen1 {
void multiply(std::ptrdiff_t, std::ptrdiff_t, std::ptrdiff_t, const double*, std::ptrdiff_t, const double*,
              std::ptrdiff_t, double*, std::ptrdiff_t, double*);
void multiply(std::ptrdiff_t, std::ptrdiff_t, std::ptrdiff_t, const float*, std::ptrdiff_t, const float*,
              std::ptrdiff_t, float*, std::ptrdiff_t, float*);
}
namespace strassen2 {
std::size_t workspace_elements(std::ptrdiff_t, std::ptrdiff_t, std::ptrdiff_t);
void multiply(std::ptrdiff_t, std::ptrdiff_t, std::ptrdiff_t, const double*, std::ptrdiff_t, const double*,
              std::ptrdiff_t, double*, std::ptrdiff_t, double*);
}
template <class T, class F>
double check(int r, int k, int c, F f) {
    std::vector<T> A(r * k), B(k * c), C(r * c);
    for (int x = 0; x < r * k; ++x) A[x] = T(((x * 37) % 19) - 9) / 8;
    for (int x = 0; x < k * c; ++x) B[x] = T(((x * 53) % 23) - 11) / 8;
    f(r, k, c, A.data(), B.data(), C.data());
    double worst = 0;
    for (int i = 0; i < r; ++i)
        for (int j = 0; j < c; ++j) {
            double s = 0;
            for (int l = 0; l < k; ++l) s += double(A[i * k + l]) * double(B[l * c + j]);
            worst = std::fmax(worst, std::fabs(s - double(C[i * c + j])));
        }
    return worst;
}
int main() {
    int bad = 0;
    for (auto [r, k, c] : {std::tuple{64, 64, 64}, {37, 53, 29}, {3, 5, 2}}) {
        const double e1 = check<double>(r, k, c, [](int r, int k, int c, const double* A, const double* B, double* C) {
            strassen1::multiply(r, k, c, A, k, B, c, C, c, nullptr);
        });
        const double e2 = check<double>(r, k, c, [](int r, int k, int c, const double* A, const double* B, double* C) {
            std::vector<double> w(strassen2::workspace_elements(r, k, c) + 1);
            strassen2::multiply(r, k, c, A, k, B, c, C, c, w.data());
        });
        const double ef = check<float>(r, k, c, [](int r, int k, int c, const float* A, const float* B, float* C) {
            strassen1::multiply(r, k, c, A, k, B, c, C, c, nullptr);
        });
        std::printf("%d %d %d: %g %g %g\n", r, k, c, e1, e2, ef);
        bad += !(e1 < 1e-11 && e2 < 1e-11 && ef < 1e-3);
    }
    return bad;
}
END_DRIVER
if command -v g++ >/dev/null && g++ -O1 -std=c++20 -c s1.cpp -o s1.o 2>gxx.txt &&
    g++ -O1 -std=c++20 -c s2.cpp -o s2.o 2>>gxx.txt &&
    g++ -O1 -std=c++20 driver.cpp s1.o s2.o -lopenblas -o driver 2>>gxx.txt; then
    pass "generated sources compile and link with OpenBLAS"
    run "generated code multiplies like the naive product" 0 ./driver
else
    echo "skip  generated code compile (no g++ or OpenBLAS here):"
    head -3 gxx.txt
fi

run "bench Strassen small" 0 "$FACTO" fmm bench strassen.txt --sizes 64,37 --levels 1,2 --repeats 1 --type both
has "bench table has dgemm" out.txt "dgemm"
has "bench table has sgemm" out.txt "sgemm"
has "bench table has 2 levels" out.txt "L=2"
numpy "bench errors are small" "
rows = [l.split() for l in open('out.txt') if l.startswith(('double', 'float')) and ' L=' in l]
assert len(rows) == 8, rows
for r in rows:
    assert float(r[-1]) < (1e-13 if r[0] == 'double' else 1e-5), r"
run "bench of a GF(2) scheme" 0 "$FACTO" fmm bench s222.txt --sizes 16 --levels 1 --repeats 1 -q
run "bench --sizes 0" 2 "$FACTO" fmm bench strassen.txt --sizes 0
run "bench --levels 9" 2 "$FACTO" fmm bench strassen.txt --levels 9
run "bench --repeats 0" 2 "$FACTO" fmm bench strassen.txt --repeats 0

# === search and verify over GF(2), structured products ==========================================
# Search <2,2,2> to Strassen's rank with a seed (reproducible), verify it, reject bad formats and
# options, and search/verify the structured products (A A^T, triangular and symmetric A).
run "search 2,2,2 to rank 7" 0 "$FACTO" fmm search 2,2,2 --target 7 -j1 --seed 3 -q -o st222.txt
has "search says target reached" out.txt "rank 7 (from 8)"
has "search file has rank 7" st222.txt "rank 7"
run "verify the search result" 0 "$FACTO" fmm verify st222.txt
has "verify says valid rank 7" out.txt "valid <2,2,2> scheme of rank 7 over GF(2)"
run "same seed again" 0 "$FACTO" fmm search 2,2,2 --target 7 -j1 --seed 3 -q -o st222b.txt
if cmp -s st222.txt st222b.txt; then pass "same seed, same scheme"; else fail "same seed, different schemes"; fi
run "search to stdout" 0 "$FACTO" fmm search 2,3,4 --max-flips 20000 -j1 -q
has "stdout holds the scheme" out.txt "fmm 2 3 4"
run "search with short restarts" 0 "$FACTO" fmm search 3,3,3 --max-flips 100000 --path-limit 2000 --restart 2 -j1 --seed 4 -o st333r.txt
has "progress ends with the runs by lowest rank" err.txt "runs by lowest rank (rank:runs):"
run "search with linear reductions" 0 "$FACTO" fmm search 3,3,3 --target 23 -j1 --seed 1 -q --linear -o st333.txt
run "verify <3,3,3> rank 23" 0 "$FACTO" fmm verify st333.txt
has "verify <3,3,3> says rank 23" out.txt "rank 23"
run "search by levels" 0 "$FACTO" fmm search 3,3,3 --strategy levels --pool 10 --target 23 -j1 --seed 2 -q -o stlv.txt
run "verify the levels result" 0 "$FACTO" fmm verify stlv.txt
has "levels reached rank 23" out.txt "rank 23"
run "unknown strategy" 2 "$FACTO" fmm search 3,3,3 --strategy deep --target 23
has "strategy error names the option" err.txt "--strategy"
run "format with two numbers" 2 "$FACTO" fmm search 2,2 --target 7
has "format error says expected" err.txt "expected N,M,P"
run "format with mixed separators" 2 "$FACTO" fmm search 2x2,2 --target 7
run "format with a zero" 2 "$FACTO" fmm search 0,2,2 --target 7
run "format too large for a word" 2 "$FACTO" fmm search 9,9,9 --target 7
run "verify a missing file" 1 "$FACTO" fmm verify nowhere.txt
sed '/^rank/d; 0,/^[01]/s/^\([01]\)/x/' st222.txt >broken.txt
run "verify a malformed scheme" 1 "$FACTO" fmm verify broken.txt
has "malformed scheme names the line" err.txt "broken.txt:"
awk '/^[01]/ && !done { $3 = ($3 ~ /^1/ ? "0" : "1") substr($3, 2); done = 1 } { print }' st222.txt >wrong.txt
run "verify a wrong scheme" 1 "$FACTO" fmm verify wrong.txt
has "wrong scheme names a Brent equation" err.txt "Brent equations fail"

run "aat: A A^T, A 3x2, 12 -> 11" 0 "$FACTO" fmm search 3,2,3 --product aat --target 11 -j1 --seed 2 -q -o aat.txt
has "aat search reaches 11" out.txt "<3,2,3> aat: rank 11 (from 12)"
has "aat file has its product line" aat.txt "product aat"
run "verify the aat scheme" 0 "$FACTO" fmm verify aat.txt
has "verify aat says valid" out.txt "valid <3,2,3> aat scheme of rank 11"
numpy "aat scheme computes the lower triangle of A A^T" "
n, m = 3, 2
terms = [l.split() for l in open('aat.txt') if l[:1] in '01']
rng = np.random.default_rng(5)
for trial in range(20):
    A = rng.integers(0, 2, (n, m))
    C = np.zeros((n, n), dtype=int)
    for u, v, w in terms:
        x = sum(int(u[e]) * A.flat[e] for e in range(n * m))
        y = sum(int(v[e]) * A.flat[e] for e in range(n * m))  # v is over A: bit k*m+j is a_kj
        for e in range(n * n):
            if w[e] == '1': C[e % n, e // n] += x * y        # w bit k*n+i is c_ki
    want = (A @ A.T) % 2
    sys.exit(1) if any(C[i, k] % 2 != want[i, k] for i in range(n) for k in range(i + 1)) else None"
run "triu: upper-triangular 3x3 times 3x2, 12 -> 11" 0 "$FACTO" fmm search 3,3,2 --product triu --target 11 -j1 --seed 2 -q -o triu.txt
run "verify the triu scheme" 0 "$FACTO" fmm verify triu.txt
run "sym: symmetric 2x2 times 2x2, 8 -> 6" 0 "$FACTO" fmm search 2,2,2 --product sym --target 6 -j1 --seed 2 -q -o sym.txt
has "sym search reaches 6" out.txt "<2,2,2> sym: rank 6 (from 8)"
run "verify the sym scheme" 0 "$FACTO" fmm verify sym.txt
grep -v '^product' aat.txt >aat_general.txt
run "an aat scheme read as a general product fails" 1 "$FACTO" fmm verify aat_general.txt
run "continue from an aat file" 0 "$FACTO" fmm search 3,2,3 --from aat.txt --max-flips 20000 -j1 -q -o aat2.txt
has "continued search keeps the product" aat2.txt "product aat"
run "--from with another --product" 2 "$FACTO" fmm search 3,2,3 --from aat.txt --product sym --max-flips 10
run "--product aat needs P = N" 2 "$FACTO" fmm search 2,3,4 --product aat --target 5
has "aat format error says P = N" err.txt "P = N"
run "--product triu needs M = N" 2 "$FACTO" fmm search 2,3,3 --product triu --target 5
run "--product bogus" 2 "$FACTO" fmm search 2,2,2 --product lower --target 5
run "--product with --start strassen" 2 "$FACTO" fmm search 2,2,2 --product sym --start strassen --target 5
run "--product with --out-npy" 2 "$FACTO" fmm search 2,2,2 --product sym --target 6 --out-npy symnpy
run "search --help documents --product" 0 "$FACTO" fmm search --help
has "help has the structured products section" out.txt "STRUCTURED PRODUCTS"

# === the stored <3,4,5> schemes of rank 47 and its start ========================================
# bench/schemes/s345_r47_gf2.txt verifies, and the hover search that found it (about 64 M flips
# from the stored rank-48 scheme) reproduces it exactly: same seed, same result.
run "verify the stored <3,4,5> in 47" 0 "$FACTO" fmm verify "$SCHEMES/s345_r47_gf2.txt"
has "it is rank 47 over GF(2)" out.txt "scheme of rank 47 over GF(2)"
run "hover from the stored 48 reaches 47" 0 "$FACTO" fmm search 3,4,5 --from "$SCHEMES/s345_r48_hover_start.txt" \
    --strategy hover --plus-band 1 --reset-after 100000000 --target 47 -j1 --seed 303 -q -o s345_47.txt
run "the search gives the stored 47" 0 cmp s345_47.txt "$SCHEMES/s345_r47_gf2.txt"

finish
