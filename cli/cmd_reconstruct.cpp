// cli/cmd_reconstruct.cpp: `facto reconstruct`: the full tensor of a model folder written by facto cp, svd, tucker or tt.
#include <cstdio>
#include <filesystem>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common.hpp"
#include "facto/core/error.hpp"
#include "facto/core/kruskal.hpp"
#include "facto/decomp/tt.hpp"
#include "facto/decomp/tucker.hpp"
#include "facto/io/file.hpp"
#include "facto/io/npy.hpp"
#include "facto/ops/linalg.hpp"
#include "help.hpp"

namespace facto::cli {

namespace {

namespace fs = std::filesystem;

struct reconstruct_args {
    std::string dir, output;
};

/// A .npy file of the model that must be a matrix.
matrix read_matrix(const fs::path& file) {
    tensor A = read_npy<double>(file.string());
    if (A.order() != 2)
        throw invalid_argument(fmt::format("reconstruct: {} has shape {}; expected a matrix", file.string(),
                                           shape_text(A.shape())));
    return matrix(A.dim(0), A.dim(1), std::move(A.values()));
}

std::vector<matrix> read_factors(const fs::path& dir) {
    std::vector<matrix> factors;
    for (int n = 0; fs::exists(dir / fmt::format("factor_{}.npy", n)); ++n)
        factors.push_back(read_matrix(dir / fmt::format("factor_{}.npy", n)));
    if (factors.empty())
        throw invalid_argument(fmt::format("reconstruct: {} has no factor_0.npy", dir.string()));
    return factors;
}

/// The model kind: report.json's "model" (or "command") field, else the files present.
std::string model_kind(const fs::path& dir) {
    const fs::path report = dir / "report.json";
    if (fs::exists(report)) {
        const auto j = nlohmann::json::parse(read_file(report.string()), nullptr, false);
        if (!j.is_discarded() && j.is_object()) {
            for (const char* key : {"model", "command"})
                if (j.contains(key) && j[key].is_string()) {
                    const std::string kind = j[key].get<std::string>();
                    if (kind == "svd" || kind == "tucker" || kind == "cp" || kind == "tt") return kind;
                }
        }
    }
    if (fs::exists(dir / "core.npy")) return "tucker";
    if (fs::exists(dir / "U.npy") && fs::exists(dir / "S.npy") && fs::exists(dir / "V.npy")) return "svd";
    if (fs::exists(dir / "weights.npy")) return "cp";
    if (fs::exists(dir / "core_0.npy")) return "tt";
    throw invalid_argument(fmt::format("reconstruct: {} holds no facto model; expected core.npy + factor_k.npy "
                                       "(tucker), U.npy + S.npy + V.npy (svd), weights.npy + factor_k.npy (cp) or core_k.npy (tt)",
                                       dir.string()));
}

tensor reconstruct(const fs::path& dir, const std::string& kind) {
    if (kind == "svd") {
        matrix U = read_matrix(dir / "U.npy");
        const matrix V = read_matrix(dir / "V.npy");
        const tensor S = read_npy<double>((dir / "S.npy").string());
        if (U.cols() != V.cols() || S.size() != U.cols())
            throw invalid_argument(fmt::format("reconstruct: {}: U is {}x{}, S has {} values, V is {}x{}; expected "
                                               "U m x k, S k, V n x k",
                                               dir.string(), U.rows(), U.cols(), S.size(), V.rows(), V.cols()));
        for (index_t i = 0; i < U.rows(); ++i)
            for (index_t j = 0; j < U.cols(); ++j) U(i, j) *= S.values()[static_cast<std::size_t>(j)];
        matrix A = matmul(U, V, false, true);
        return tensor({A.rows(), A.cols()}, std::move(A.values()));
    }
    if (kind == "tucker") {
        tucker_tensor T;
        T.core = read_npy<double>((dir / "core.npy").string());
        T.factors = read_factors(dir);
        return T.full();
    }
    if (kind == "tt") {
        std::vector<tensor> cores;
        for (int k = 0; fs::exists(dir / fmt::format("core_{}.npy", k)); ++k)
            cores.push_back(read_npy<double>((dir / fmt::format("core_{}.npy", k)).string()));
        return tt_tensor(std::move(cores)).full();
    }
    kruskal_tensor K;
    K.factors = read_factors(dir);
    const tensor w = read_npy<double>((dir / "weights.npy").string());
    K.weights = w.values();
    return K.full();
}

}  // namespace

command add_reconstruct_command(CLI::App& parent) {
    auto a = std::make_shared<reconstruct_args>();
    CLI::App* app = parent.add_subcommand("reconstruct", "rebuild the full tensor from a model folder (cp, svd, tucker, tt)");
    app->add_option("MODEL_DIR", a->dir, "A folder written by facto cp, svd, tucker or tt.")
        ->required()
        ->option_text("DIR");
    app->add_option("OUTPUT", a->output,
                    "The file to write; its extension picks the format: .npy, .tns, .mtx (2-way), .csv or .tsv.")
        ->required()
        ->option_text("FILE");

    manual m;
    m.synopsis = {"facto reconstruct MODEL_DIR OUTPUT"};
    m.description =
        "Rebuilds the full (dense) tensor a model approximates and writes it to OUTPUT in the format its "
        "extension names. The model kind comes from the \"model\" (or \"command\") field of MODEL_DIR/report.json, "
        "else from the files present: core.npy and factor_k.npy (tucker: core x_0 U_0 ... x_{N-1} U_{N-1}), "
        "U.npy, S.npy and V.npy (svd: U diag(S) V^T), weights.npy and factor_k.npy (cp: sum of weighted "
        "rank-one tensors), core_0.npy ... core_{d-1}.npy (tt: the chain of core slices). The result has as many entries as the tensor: meant for small tensors and checks.";
    m.sections = {{"Examples",
                   " facto tucker X.npy --ranks 4,4,4 --out tk && facto reconstruct tk Xhat.npy\n"
                   " facto svd A.mtx --rank 5 --out s && facto reconstruct s A5.mtx\n"},
                  {"Exit status", exit_status_section(false)}};
    set_manual(app, std::move(m));

    return {app, [a]() -> int {
                const std::string out_format = checked_format(a->output, {}, "OUTPUT");
                if (out_format == "npz")
                    throw usage_error(fmt::format("OUTPUT: cannot write '{}': expected .npy, .tns, .mtx, .csv or .tsv "
                                                  "(.npz is read only)",
                                                  a->output));
                std::error_code ec;
                if (!fs::is_directory(a->dir, ec))
                    throw usage_error(fmt::format("MODEL_DIR: '{}' is not a folder", a->dir));
                const std::string kind = model_kind(a->dir);
                const tensor X = reconstruct(a->dir, kind);
                write_tensor(a->output, X);
                std::printf("wrote %s (%s, %s) from the %s model in %s\n", a->output.c_str(), out_format.c_str(),
                            shape_text(X.shape()).c_str(), kind.c_str(), a->dir.c_str());
                return exit_ok;
            }};
}

}  // namespace facto::cli
