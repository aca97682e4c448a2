// cli/cp_run.hpp: one CP run as `facto cp` and `facto demo` do it: initial factors, the call
// to cp_als/cp_hals with progress and Ctrl-C, the model files and report.json.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "facto/decomp/cp.hpp"
#include "progress.hpp"

namespace facto::cli {

/// What the command line asked for.
struct cp_settings {
    std::string method = "als";       ///< als or hals
    std::string init = "random";      ///< random, svd, or an .npz file of initial factors
    std::string csf = "all";          ///< one or all (sparse input only)
    index_t rank = 0;                 ///< 0: taken from the --init file
    int max_iters = 100;
    double tol = 1e-6;
    std::uint64_t seed = 0;
    int threads = 0;                  ///< 0: the OpenMP default
    progress_mode progress = progress_mode::automatic;
};

/// Parses --init: random, svd or an existing .npz path (usage_error otherwise).
void check_init_argument(const std::string& init);

/// Reads initial factors from an .npz archive: members U0, U1, ... or factor_0, factor_1, ...
/// in mode order, each dim(n) x R. rank 0 takes R from the file; otherwise it must match.
kruskal_tensor read_initial_factors(const std::string& path, const shape_t& shape, index_t rank);

/// Input facts for the report and for `facto info`: path, format, shape, nnz, density, norm.
nlohmann::ordered_json input_summary(const loaded_input& in);

struct cp_run {
    cp_result result;
    double csf_seconds = 0;  ///< building the CSF set (sparse input)
    int threads = 1;
};

/// Runs cp_als or cp_hals on the input with a progress display that stops on Ctrl-C.
cp_run run_cp(const loaded_input& in, cp_settings& s);

/// Creates the output folder (and its parents) if needed, before any work, so that a bad --out
/// fails at once rather than after the run; throws facto::io_error naming the folder.
void prepare_out_dir(const std::string& dir);

/// Writes factor_0.npy ... factor_{N-1}.npy and weights.npy into dir (created if needed),
/// each atomically; returns the file names written.
std::vector<std::string> write_model(const std::string& dir, const kruskal_tensor& model);

/// report.json: facto version, command, date, threads, parameters, input, timings (read,
/// setup, iterations, total), history (fit, change, seconds per iteration), result, files.
nlohmann::ordered_json cp_report(const std::string& command, const cp_settings& s, const loaded_input& in,
                         const nlohmann::ordered_json& input, const cp_run& run, double total_seconds,
                         const std::vector<std::string>& files);

/// Writes report.json into dir atomically (after the model, so a report means a complete model).
void write_report(const std::string& dir, const nlohmann::ordered_json& report);

/// The one-paragraph result summary printed on stdout after a run.
std::string result_summary(const cp_run& run, const std::string& dir, const std::vector<std::string>& files);

}  // namespace facto::cli
