// cli/cp_run.cpp: a CP run from parsed settings to model files and report.json.
#include "cp_run.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <utility>

#include <fmt/format.h>

#include "facto/core/error.hpp"
#include "facto/io/file.hpp"
#include "facto/io/npy.hpp"

namespace facto::cli {

namespace {

using json = nlohmann::ordered_json;

bool ends_with_npz(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s.size() > 4 && s.compare(s.size() - 4, 4, ".npz") == 0;
}

}  // namespace

void check_init_argument(const std::string& init) {
    if (init == "random" || init == "svd" || ends_with_npz(init)) return;
    throw usage_error(fmt::format("--init: expected random, svd or an .npz file of initial factors, found '{}'", init));
}

kruskal_tensor read_initial_factors(const std::string& path, const shape_t& shape, index_t rank) {
    const auto arrays = read_npz<double>(path);
    const int order = static_cast<int>(shape.size());
    std::vector<std::string> names;
    for (const char* prefix : {"U", "factor_"}) {
        names.clear();
        for (int n = 0; n < order; ++n)
            if (arrays.count(prefix + std::to_string(n))) names.push_back(prefix + std::to_string(n));
        if (static_cast<int>(names.size()) == order) break;
    }
    if (static_cast<int>(names.size()) != order) {
        std::string found;
        for (const auto& [name, a] : arrays) found += (found.empty() ? "" : ", ") + name;
        throw invalid_argument(fmt::format("--init: {} holds {}; expected members U0..U{} or factor_0..factor_{} "
                                           "(one per mode of the {}-way input)",
                                           path, found.empty() ? "no arrays" : found, order - 1, order - 1, order));
    }
    kruskal_tensor K;
    for (int n = 0; n < order; ++n) {
        const tensor& A = arrays.at(names[static_cast<std::size_t>(n)]);
        if (A.order() != 2 || A.dim(0) != shape[static_cast<std::size_t>(n)])
            throw invalid_argument(fmt::format("--init: {}: member {} has shape {}; expected {} x R (mode {} of the "
                                               "input has size {})",
                                               path, names[static_cast<std::size_t>(n)], shape_text(A.shape()),
                                               shape[static_cast<std::size_t>(n)], n,
                                               shape[static_cast<std::size_t>(n)]));
        const index_t r = A.dim(1);
        if (rank == 0) rank = r;
        if (r != rank)
            throw invalid_argument(fmt::format("--init: {}: member {} has {} columns; expected the rank, {}", path,
                                               names[static_cast<std::size_t>(n)], r, rank));
        K.factors.emplace_back(A.dim(0), r, A.values());
    }
    K.weights.assign(static_cast<std::size_t>(rank), 1.0);
    return K;
}

json input_summary(const loaded_input& in) {
    json j;
    j["path"] = in.path;
    j["format"] = in.format;
    j["compression"] = in.compression.empty() ? json(nullptr) : json(in.compression);
    j["kind"] = in.sparse() ? "sparse" : "dense";
    const shape_t& shape = in.shape();
    j["order"] = shape.size();
    j["shape"] = shape;
    double entries = 1;
    for (index_t d : shape) entries *= static_cast<double>(d);
    j["entries"] = entries;

    std::span<const double> values;
    index_t nnz = 0;
    double nrm = 0;
    if (in.sparse()) {
        const auto& X = std::get<coo_tensor>(in.tensor);
        values = X.values;
        nnz = X.nnz();
        nrm = norm(X);
    } else {
        const auto& X = std::get<tensor>(in.tensor);
        values = X.values();
        nnz = std::count_if(values.begin(), values.end(), [](double v) { return v != 0; });
        nrm = norm(X.view());
    }
    j["nnz"] = nnz;
    j["density"] = entries > 0 ? static_cast<double>(nnz) / entries : 0.0;
    j["norm"] = nrm;
    if (values.empty()) {
        j["min"] = nullptr;
        j["max"] = nullptr;
    } else {
        const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
        j["min"] = *lo;
        j["max"] = *hi;
    }
    return j;
}

cp_run run_cp(const loaded_input& in, cp_settings& s) {
    cp_options o;
    o.max_iters = s.max_iters;
    o.tol = s.tol;
    o.seed = s.seed;
    o.threads = s.threads;
    o.csf = s.csf == "one" ? csf_policy::one : csf_policy::all;
    if (s.init == "random") {
        o.init = cp_init::random;
    } else if (s.init == "svd") {
        o.init = cp_init::svd;
    } else {
        o.init = cp_init::given;
        o.initial = read_initial_factors(s.init, in.shape(), s.rank);
        s.rank = o.initial->rank();
    }
    if (s.rank < 1) throw usage_error("--rank: required (or give --init FILE.npz to take the rank from it)");
    o.rank = s.rank;

    cp_run run;
    run.threads = effective_threads(s.threads);
    // The CSF build runs before the library sees opts.threads, so set the team size here too.
    if (s.threads > 0) omp_set_num_threads(s.threads);

    progress_display show(o.max_iters, s.progress);
    o.on_iteration = [&show](const cp_iteration& it) { return show(it); };
    const bool hals = s.method == "hals";
    if (in.sparse()) {
        const auto t0 = std::chrono::steady_clock::now();
        const csf_set X = make_csf_set(std::get<coo_tensor>(in.tensor), o.csf);
        run.csf_seconds = seconds_since(t0);
        run.result = hals ? cp_hals(X, o) : cp_als(X, o);
    } else {
        const tensor_view X = std::get<tensor>(in.tensor).view();
        run.result = hals ? cp_hals(X, o) : cp_als(X, o);
    }
    show.finish(run.result, o.tol);
    return run;
}

void prepare_out_dir(const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw io_error(fmt::format("--out: cannot create folder '{}': {}", dir, ec.message()));
    if (!std::filesystem::is_directory(dir, ec))
        throw io_error(fmt::format("--out: '{}' exists and is not a folder", dir));
}

std::vector<std::string> write_model(const std::string& dir, const kruskal_tensor& model) {
    prepare_out_dir(dir);
    std::vector<std::string> files;
    for (int n = 0; n < model.order(); ++n) {
        files.push_back(fmt::format("factor_{}.npy", n));
        write_npy((std::filesystem::path(dir) / files.back()).string(), model.factors[static_cast<std::size_t>(n)]);
    }
    files.push_back("weights.npy");
    write_npy((std::filesystem::path(dir) / files.back()).string(), model.weights);
    return files;
}

json cp_report(const std::string& command, const cp_settings& s, const loaded_input& in, const json& input,
               const cp_run& run, double total_seconds, const std::vector<std::string>& files) {
    const cp_result& r = run.result;
    json rep;
    rep["facto_version"] = FACTO_VERSION;
    rep["command"] = command;
    rep["date"] = iso_date_utc();
    rep["threads"] = run.threads;
    rep["parameters"] = {{"method", s.method}, {"rank", s.rank},     {"max_iters", s.max_iters},
                         {"tol", s.tol},       {"seed", s.seed},     {"init", s.init},
                         {"csf", in.sparse() ? json(s.csf) : json(nullptr)}, {"threads", s.threads}};
    rep["input"] = input;
    double iter_seconds = 0;
    json history = json::array();
    for (const cp_iteration& it : r.history) {
        iter_seconds += it.seconds;
        history.push_back({{"iter", it.iter}, {"fit", it.fit}, {"change", it.change}, {"seconds", it.seconds}});
    }
    rep["timings"] = {{"read", in.read_seconds},
                      {"setup", run.csf_seconds + r.setup_seconds},
                      {"iterations", iter_seconds},
                      {"total", total_seconds}};
    rep["history"] = std::move(history);
    rep["result"] = {{"fit", r.fit},
                     {"iters", r.iters},
                     {"converged", r.converged},
                     {"interrupted", r.interrupted},
                     {"final_change", r.history.empty() ? json(nullptr) : json(r.history.back().change)},
                     {"pinv_fallbacks", r.pinv_fallbacks},
                     {"fit_uncertainty", r.fit_uncertainty},
                     {"weights", r.model.weights}};
    json factors = json::array();
    for (const auto& f : files)
        if (f.rfind("factor_", 0) == 0) factors.push_back(f);
    rep["files"] = {{"weights", "weights.npy"}, {"factors", factors}};
    return rep;
}

void write_report(const std::string& dir, const json& report) {
    write_file_atomic((std::filesystem::path(dir) / "report.json").string(), report.dump(2) + "\n");
}

std::string result_summary(const cp_run& run, const std::string& dir, const std::vector<std::string>& files) {
    const cp_result& r = run.result;
    const char* how = r.interrupted ? "interrupted" : r.converged ? "converged" : "iteration limit";
    std::string out = fmt::format("fit {:.6f} after {} iterations ({}), {} in all\n", r.fit, r.iters, how,
                                  human_seconds(r.seconds + run.csf_seconds));
    if (r.fit_uncertainty > 1e-3)
        out += fmt::format("warning: the fit is uncertain by {:.2g}: components cancel each other with huge "
                           "weights (a degenerate CP); try a lower rank or --method hals\n",
                           r.fit_uncertainty);
    std::string listing;
    for (std::size_t i = 0; i < files.size(); ++i) {
        listing += (i ? ", " : "") + files[i];
        if (i < r.model.factors.size())
            listing += fmt::format(" ({}x{})", r.model.factors[i].rows(), r.model.factors[i].cols());
    }
    out += fmt::format("wrote {}/: {}, report.json\n", dir, listing);
    return out;
}

}  // namespace facto::cli
