// cp_tns.cpp: the shortest useful facto program: CP-ALS of a sparse tensor read from a .tns file.
// Usage: cp_tns FILE.tns[.gz|.xz] [RANK]
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "facto/decomp/cp.hpp"
#include "facto/io/tns.hpp"

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s FILE.tns [RANK]\n", argv[0]);
        return 2;
    }
    try {
        const facto::coo_tensor X = facto::read_tns(argv[1]);
        const facto::index_t rank = argc > 2 ? std::atoll(argv[2]) : 8;
        const facto::cp_result r = facto::cp_als(X, {.rank = rank, .max_iters = 50, .tol = 1e-5, .seed = 1});
        std::printf("%d iterations, fit %.6f, %s\n", r.iters, r.fit, r.converged ? "converged" : "not converged");
        for (facto::index_t c = 0; c < r.model.rank(); ++c)
            std::printf("component %lld: weight %.4g\n", static_cast<long long>(c), r.model.weights[c]);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
