// cli/cmd_recommend.cpp: `facto recommend fit|eval|topk`: matrix factorization of ratings files
// (explicit ALS/SGD, implicit ALS, BPR), cross-validated evaluation, top-k recommendation.
#include <omp.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common.hpp"
#include "cp_run.hpp"
#include "facto/core/error.hpp"
#include "facto/io/file.hpp"
#include "facto/io/npy.hpp"
#include "facto/recommend/als.hpp"
#include "facto/recommend/metrics.hpp"
#include "facto/recommend/ratings.hpp"
#include "help.hpp"
#include "progress.hpp"

namespace facto::cli {

namespace {

using json = nlohmann::ordered_json;
constexpr double unset = std::numeric_limits<double>::quiet_NaN();

// ---- settings shared by fit and eval ---------------------------------------------------------

struct ratings_input {
    std::string path;
    std::string format = "auto";
    std::string columns;  ///< "USER,ITEM[,RATING[,TIME]]" header names
};

const mf_options library_defaults;  // what the options below default to, unless per method

struct model_settings {
    bool implicit = false;
    std::string method = "als";
    long long rank = library_defaults.rank;
    int iters = 0;  ///< 0: the method's default (default_options)
    double reg = unset, bias_reg = unset, learning_rate = unset;  ///< unset: the method's default
    double reg_exponent = library_defaults.reg_exponent, alpha = library_defaults.alpha,
           lr_decay = library_defaults.lr_decay, tol = library_defaults.tol;
    std::string solver = "cg";
    std::string biases = "all";
    int cg_steps = library_defaults.cg_steps;
    std::uint64_t seed = library_defaults.seed;
    int threads = library_defaults.threads;
    std::string progress = "auto";
};

void add_ratings_options(CLI::App* app, ratings_input& in) {
    app->add_option("--format", in.format,
                    "Layout of RATINGS: movielens (user::item::rating[::time], ratings.dat), tab (user, item, "
                    "rating[, time] separated by tabs, u.data), csv (comma, tab, semicolon or blank separated, with "
                    "an optional header naming the columns), or auto (movielens when the first line has '::', "
                    "else csv).")
        ->option_text("auto|movielens|tab|csv")
        ->check(one_of({"auto", "movielens", "tab", "csv"}));
    app->add_option("--columns", in.columns,
                    "CSV with a header: the names of the user, item and optionally rating and timestamp "
                    "columns, comma-separated. Without it, names like userId, movieId/itemId, rating, "
                    "timestamp are recognized.")
        ->option_text("USER,ITEM[,RATING[,TIME]]");
}

void add_model_options(CLI::App* app, model_settings& s, bool with_progress) {
    app->add_flag("--implicit", s.implicit,
                  "Treat values as implicit feedback (counts, clicks; every listed pair is a positive) and fit "
                  "the Hu-Koren-Volinsky weighted ALS model (or BPR with --method bpr).");
    app->add_option("-m,--method", s.method,
                    "als: alternating least squares (explicit: biased, count-weighted L2; implicit: HKV). sgd: "
                    "LIBMF-style blocked stochastic gradient (explicit). bpr: Bayesian personalized ranking "
                    "(implies --implicit).")
        ->option_text("als|sgd|bpr")
        ->check(one_of({"als", "sgd", "bpr"}));
    app->add_option("-r,--rank", s.rank, "Latent factors per user and item (0 with explicit ALS: biases only).")
        ->option_text("K")
        ->check(integer_at_least(0));
    app->add_option("-n,--iters", s.iters,
                    "Sweeps (ALS) or epochs (SGD, BPR). Default: 15 for ALS, 20 for SGD, 30 for BPR.")
        ->option_text("N")
        ->check(integer_at_least(1))
        ->default_str("");
    app->add_option("--reg", s.reg,
                    "L2 weight of the factors. Default: 0.05 (explicit ALS, times the row's count of ratings "
                    "to the power --reg-exponent), 0.05 (SGD, per update), 0.1 (implicit ALS), 0.01 (BPR).")
        ->option_text("L")
        ->check(number_at_least(0))
        ->default_str("");
    app->add_option("--bias-reg", s.bias_reg,
                    "L2 weight of the biases. Default: 2 for explicit ALS (not scaled by counts), 0.05 for SGD, "
                    "0.01 for BPR (per update).")
        ->option_text("L")
        ->check(number_at_least(0))
        ->default_str("");
    app->add_option("--reg-exponent", s.reg_exponent,
                    "Explicit ALS: a row with n ratings has factor regularization reg * n^E. 1 is ALS-WR (Zhou "
                    "et al.), 0.5 the smoothed weighted trace norm (better on very sparse data), 0 unweighted.")
        ->option_text("E")
        ->check(CLI::Range(0.0, 1.0));
    app->add_option("--biases", s.biases,
                    "Explicit models: all (mean + user and item biases + factors), mean (mean + factors), or "
                    "none (factors only).")
        ->option_text("all|mean|none")
        ->check(one_of({"all", "mean", "none"}));
    app->add_option("--alpha", s.alpha, "Implicit ALS: confidence 1 + alpha * value.")
        ->option_text("A")
        ->check(number_at_least(0));
    app->add_option("--solver", s.solver,
                    "Implicit ALS row solves: cg (a few conjugate-gradient steps warm-started from the last "
                    "sweep, as the implicit package does) or cholesky (exact).")
        ->option_text("cg|cholesky")
        ->check(one_of({"cg", "cholesky"}));
    app->add_option("--cg-steps", s.cg_steps, "Implicit ALS with --solver cg: steps per row and sweep.")
        ->option_text("N")
        ->check(integer_at_least(1));
    app->add_option("--learning-rate", s.learning_rate, "SGD and BPR: first step size (plain SGD: lower it if the objective grows, e.g. for ratings on a 0-10 scale).")
        ->option_text("R")
        ->check(number_at_least(0))
        ->default_str("0.05");
    app->add_option("--lr-decay", s.lr_decay, "SGD and BPR: the step is multiplied by this after every epoch.")
        ->option_text("D")
        ->check(number_at_least(0));
    app->add_option("-t,--tol", s.tol,
                    "Stop once the objective decreases by less than this fraction in a sweep (0: run all --iters).")
        ->option_text("T")
        ->check(number_at_least(0));
    app->add_option("-s,--seed", s.seed,
                    "Seed of the initial factors, the SGD order, BPR samples and the splits: the same seed gives "
                    "the same result (for SGD and BPR whatever the thread count).")
        ->option_text("S")
        ->check(integer_at_least(0));
    app->add_option("-j,--threads", s.threads, "OpenMP threads; 0 keeps the default (OMP_NUM_THREADS, else one per core).")
        ->option_text("K")
        ->check(integer_at_least(0));
    if (with_progress)
        app->add_option("--progress", s.progress,
                        "How iterations are shown on stderr: auto (a bar on a terminal, lines otherwise), bar, "
                        "lines, or none.")
            ->option_text("auto|bar|lines|none")
            ->check(one_of({"auto", "bar", "lines", "none"}));
}

ratings_read_options read_options_of(const ratings_input& in) {
    ratings_read_options o;
    if (in.format == "movielens") o.format = ratings_format::movielens;
    if (in.format == "tab") o.format = ratings_format::tab;
    if (in.format == "csv") o.format = ratings_format::csv;
    if (!in.columns.empty()) {
        std::vector<std::string> names;
        std::string cur;
        for (char c : in.columns + ",") {
            if (c != ',') {
                cur += c;
                continue;
            }
            names.push_back(cur);
            cur.clear();
        }
        if (names.size() < 2 || names.size() > 4 || std::any_of(names.begin(), names.end(), [](auto& n) { return n.empty(); }))
            throw usage_error(fmt::format("--columns: expected USER,ITEM[,RATING[,TIME]], found '{}'", in.columns));
        o.user_column = names[0];
        o.item_column = names[1];
        if (names.size() > 2) o.rating_column = names[2];
        if (names.size() > 3) o.time_column = names[3];
        o.header = 1;
        o.format = ratings_format::csv;
    }
    return o;
}

struct loaded_ratings {
    ratings_table table;
    double seconds = 0;
};

loaded_ratings load_ratings(const ratings_input& in) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!std::filesystem::exists(in.path)) throw io_error(fmt::format("{}: no such file", in.path));
    loaded_ratings r{read_ratings(in.path, read_options_of(in)), 0};
    r.seconds = seconds_since(t0);
    if (r.table.size() == 0) throw invalid_argument(fmt::format("{}: no ratings in the file", in.path));
    return r;
}

mf_method method_of(const model_settings& s) {
    if (s.method == "bpr") return mf_method::bpr;
    if (s.implicit) return mf_method::als_implicit;
    return s.method == "sgd" ? mf_method::sgd_explicit : mf_method::als_explicit;
}

// The method's defaults (default_options, as documented in the options), then what was given.
mf_options options_of(const model_settings& s) {
    mf_options o = default_options(method_of(s));
    o.rank = s.rank;
    if (s.iters > 0) o.max_iters = s.iters;
    if (!std::isnan(s.reg)) o.reg = s.reg;
    if (!std::isnan(s.bias_reg)) o.bias_reg = s.bias_reg;
    o.reg_exponent = s.reg_exponent;
    o.biases = s.biases == "all";
    o.center = s.biases == "mean";
    o.alpha = s.alpha;
    o.solver = s.solver == "cholesky" ? implicit_solver::cholesky : implicit_solver::cg;
    o.cg_steps = s.cg_steps;
    if (!std::isnan(s.learning_rate)) o.learning_rate = s.learning_rate;
    o.lr_decay = s.lr_decay;
    o.tol = s.tol;
    o.seed = s.seed;
    o.threads = s.threads;
    return o;
}

void check_settings(model_settings& s) {
    if (s.method == "bpr") s.implicit = true;
    if (s.implicit && s.method == "sgd")
        throw usage_error("--method sgd: fits explicit ratings; with --implicit use --method als or bpr");
    if ((s.implicit || s.method == "sgd") && s.rank < 1)
        throw usage_error(fmt::format("--rank: expected an integer >= 1 for --method {}{}, found {}", s.method,
                                      s.implicit ? " --implicit" : "", s.rank));
}

std::string method_name(const model_settings& s) {
    if (s.method == "bpr") return "bpr";
    return (s.implicit ? "implicit-" : "") + s.method;
}

// ---- progress --------------------------------------------------------------------------------

class mf_progress {
public:
    mf_progress(int max_iters, progress_mode mode)
        : max_iters_(max_iters),
          bar_(mode == progress_mode::bar || (mode == progress_mode::automatic && isatty(STDERR_FILENO))),
          quiet_(mode == progress_mode::none) {}

    bool operator()(const mf_iteration& it) {
        elapsed_ += it.seconds;
        if (!quiet_) {
            std::string line = fmt::format("iter {:>{}}/{}  objective {:.6e}", it.iter, fmt::formatted_size("{}", max_iters_),
                                           max_iters_, it.objective);
            if (!std::isnan(it.train_rmse)) line += fmt::format("  train RMSE {:.4f}", it.train_rmse);
            if (!std::isnan(it.test_rmse)) line += fmt::format("  test RMSE {:.4f}", it.test_rmse);
            line += fmt::format("  {:.3f} s", it.seconds);
            if (bar_) {
                line += fmt::format("  ETA {}", human_seconds(elapsed_ / it.iter * std::max(0, max_iters_ - it.iter)));
                std::fprintf(stderr, "\r%s\x1b[K", line.c_str());
                drawn_ = true;
            } else {
                std::fprintf(stderr, "%s\n", line.c_str());
            }
            std::fflush(stderr);
        }
        return !interrupt_requested();
    }
    void finish(const mf_result& r) {
        if (drawn_) std::fputc('\n', stderr);
        drawn_ = false;
        if (quiet_) return;
        if (r.interrupted)
            std::fprintf(stderr, "interrupted (Ctrl-C) after iteration %d: keeping the model of that iteration\n", r.iters);
        else if (r.converged)
            std::fprintf(stderr, "converged after %d iterations\n", r.iters);
        std::fflush(stderr);
    }

private:
    int max_iters_;
    bool bar_, quiet_, drawn_ = false;
    double elapsed_ = 0;
};

// Ratings of `part` against the id maps of `base` (a test file read separately): pairs whose
// user or item the training data never saw are dropped and counted.
ratings_table map_onto(const ratings_table& part, const ratings_table& base, index_t& dropped) {
    ratings_table out;
    out.users = base.users;
    out.items = base.items;
    dropped = 0;
    for (index_t k = 0; k < part.size(); ++k) {
        const index_t u = base.users.find(part.users.id(part.user[static_cast<std::size_t>(k)]));
        const index_t i = base.items.find(part.items.id(part.item[static_cast<std::size_t>(k)]));
        if (u < 0 || i < 0) {
            ++dropped;
            continue;
        }
        out.user.push_back(u);
        out.item.push_back(i);
        out.value.push_back(part.value[static_cast<std::size_t>(k)]);
    }
    return out;
}

json table_summary(const ratings_table& T, const ratings_input& in, double seconds) {
    const auto [lo, hi] = std::minmax_element(T.value.begin(), T.value.end());
    return {{"path", in.path},        {"ratings", T.size()},         {"users", T.num_users()},
            {"items", T.num_items()}, {"timestamps", T.has_time()},  {"min", *lo},
            {"max", *hi},             {"read_seconds", seconds}};
}

json options_json(const model_settings& s, const mf_options& o) {
    json j = {{"method", method_name(s)}, {"implicit", s.implicit}, {"rank", o.rank}, {"iters", o.max_iters},
              {"reg", o.reg},            {"seed", o.seed},         {"tol", o.tol},   {"threads", s.threads}};
    if (s.method == "bpr" || !s.implicit) j["bias_reg"] = o.bias_reg;
    if (!s.implicit) j["biases"] = s.biases;
    if (!s.implicit && s.method == "als") j["reg_exponent"] = o.reg_exponent;
    if (s.implicit && s.method == "als") {
        j["alpha"] = o.alpha;
        j["solver"] = s.solver;
        if (s.solver == "cg") j["cg_steps"] = o.cg_steps;
    }
    if (s.method != "als") {
        j["learning_rate"] = o.learning_rate;
        j["lr_decay"] = o.lr_decay;
    }
    return j;
}

std::string join_path(const std::string& dir, const std::string& name) { return (std::filesystem::path(dir) / name).string(); }

void write_ids(const std::string& path, const id_map& ids) {
    std::string text;
    for (const auto& id : ids.ids()) {
        if (id.find_first_of("\n\r") != std::string::npos)
            throw invalid_argument(fmt::format("id '{}' holds a line break and cannot be written to {}", id, path));
        text += id;
        text += '\n';
    }
    write_file_atomic(path, text);
}

void read_ids(const std::string& path, id_map& ids) {
    const std::string text = read_file(path);
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t eol = text.find('\n', pos);
        if (eol == std::string::npos) eol = text.size();
        ids.insert(std::string_view(text).substr(pos, eol - pos));
        pos = eol + 1;
    }
}

// ---- fit -------------------------------------------------------------------------------------

struct fit_args {
    ratings_input in;
    model_settings model;
    std::string out = "facto-recommend-out";
    std::string test_file;
    double test_fraction = 0;
    std::string split = "random";
    long long k = 10;
};

manual fit_manual() {
    manual m;
    m.synopsis = {"facto recommend fit RATINGS [--implicit] [--method als|sgd|bpr] [--rank K] [--reg L]",
                  "         [--alpha A] [--iters N] [--seed S] [--threads K] [--test FILE | --test-fraction F]",
                  "         [--out MODEL]"};
    m.description =
        "Fits a matrix factorization model to the ratings in RATINGS (one user, item, rating and optional "
        "timestamp per line; ids may be any strings and are kept as written). Explicit ratings (the default) get "
        "rating(u, i) = mean + b_u + b_i + p_u . q_i by alternating least squares with count-weighted L2 "
        "regularization, or by LIBMF-style SGD. With --implicit every listed pair is a positive with confidence "
        "1 + alpha * value (Hu, Koren and Volinsky), solved by conjugate gradient or Cholesky; --method bpr fits "
        "Bayesian personalized ranking instead.\n"
        "\n"
        "With --test FILE (held-out ratings of the same users and items) or --test-fraction F (a seeded split, "
        "see --split), the history records the test RMSE after every iteration (explicit), and the report the "
        "final ranking metrics (implicit).\n"
        "\n"
        "MODEL (a folder) receives user_factors.npy and item_factors.npy (users x K and items x K, float64), "
        "user_bias.npy and item_bias.npy (explicit models; BPR has item biases), users.txt and items.txt (the "
        "original ids, line n = index n), seen_indptr.npy and seen_indices.npy (the training pairs, CSR, for "
        "leaving seen items out of recommendations) and report.json (parameters, global mean, history, timings). "
        "Every file is written atomically. Ctrl-C stops after the current iteration and still writes the model "
        "(exit status 130).";
    m.sections = {
        {"Examples",
         " facto recommend fit ratings.dat --rank 10 --out model\n"
         " facto recommend fit train.txt --test test.txt --rank 10 --iters 20 --threads 2\n"
         " facto recommend fit plays.csv --implicit --rank 32 --alpha 10 --out model\n"
         " facto recommend topk model --user 42 -k 10\n"},
        {"Exit status", exit_status_section(true)},
    };
    return m;
}

void write_vector(const std::string& path, const std::vector<index_t>& v) {
    std::vector<double> d(v.begin(), v.end());
    write_npy(path, d);
}

int run_fit(fit_args& a) {
    const auto t0 = std::chrono::steady_clock::now();
    check_settings(a.model);
    if (!a.test_file.empty() && a.test_fraction > 0) throw usage_error("--test and --test-fraction: give one, not both");
    if (a.test_fraction != 0 && !(a.test_fraction > 0 && a.test_fraction < 1))
        throw usage_error(fmt::format("--test-fraction: expected a number between 0 and 1, found {}", a.test_fraction));
    const mf_options base = options_of(a.model);
    prepare_out_dir(a.out);
    const loaded_ratings L = load_ratings(a.in);
    const ratings_table& T = L.table;
    std::fprintf(stderr, "%s: %s ratings, %s users, %s items, read in %s\n", a.in.path.c_str(),
                 count_text(static_cast<double>(T.size())).c_str(), count_text(static_cast<double>(T.num_users())).c_str(),
                 count_text(static_cast<double>(T.num_items())).c_str(), human_seconds(L.seconds).c_str());

    ratings_table train_table, test_table;
    index_t dropped = 0;
    bool have_test = false;
    if (!a.test_file.empty()) {
        ratings_input ti = a.in;
        ti.path = a.test_file;
        test_table = map_onto(load_ratings(ti).table, T, dropped);
        train_table = T;
        have_test = true;
        if (dropped)
            std::fprintf(stderr, "%s: %s ratings of users or items absent from %s left out\n", a.test_file.c_str(),
                         count_text(static_cast<double>(dropped)).c_str(), a.in.path.c_str());
    } else if (a.test_fraction > 0) {
        const ratings_split sp = a.split == "user" ? split_per_user(T, a.test_fraction, a.model.seed)
                                 : a.split == "time" ? split_by_time(T, a.test_fraction)
                                                     : split_random(T, a.test_fraction, a.model.seed);
        train_table = T.subset(sp.train);
        test_table = T.subset(sp.test);
        have_test = true;
    } else {
        train_table = T;
    }
    const duplicate_policy dup = a.model.implicit ? duplicate_policy::sum : duplicate_policy::mean;
    const csr_matrix R = to_csr(train_table, false, dup);
    const csr_matrix test = have_test ? to_csr(test_table, false, dup) : csr_matrix{};

    mf_options o = base;
    if (have_test && !a.model.implicit) o.validation = &test;
    install_interrupt_handler();
    mf_progress show(o.max_iters, parse_progress_mode(a.model.progress));
    o.on_iteration = [&show](const mf_iteration& it) { return show(it); };
    const mf_result res = fit(method_of(a.model), R, o);
    show.finish(res);
    const mf_model& m = res.model;

    // Model files, then the report (a report means a complete model).
    std::vector<std::string> files = {"user_factors.npy", "item_factors.npy"};
    write_npy(join_path(a.out, files[0]), m.user_factors);
    write_npy(join_path(a.out, files[1]), m.item_factors);
    if (!m.user_bias.empty()) {
        files.push_back("user_bias.npy");
        write_npy(join_path(a.out, files.back()), m.user_bias);
    }
    if (!m.item_bias.empty()) {
        files.push_back("item_bias.npy");
        write_npy(join_path(a.out, files.back()), m.item_bias);
    }
    write_vector(join_path(a.out, "seen_indptr.npy"), R.row_ptr);
    write_vector(join_path(a.out, "seen_indices.npy"), R.col_idx);
    write_ids(join_path(a.out, "users.txt"), T.users);
    write_ids(join_path(a.out, "items.txt"), T.items);
    for (const char* f : {"seen_indptr.npy", "seen_indices.npy", "users.txt", "items.txt"}) files.push_back(f);

    json rep;
    rep["facto_version"] = FACTO_VERSION;
    rep["command"] = "recommend fit";
    rep["date"] = iso_date_utc();
    rep["threads"] = effective_threads(a.model.threads);
    rep["parameters"] = options_json(a.model, o);
    rep["input"] = table_summary(T, a.in, L.seconds);
    rep["model"] = {{"kind", m.implicit ? "implicit" : "explicit"},
                    {"method", method_name(a.model)},
                    {"rank", m.rank()},
                    {"users", m.num_users()},
                    {"items", m.num_items()},
                    {"global_mean", m.global_mean},
                    {"user_biases", !m.user_bias.empty()},
                    {"item_biases", !m.item_bias.empty()}};
    json history = json::array();
    double iter_seconds = 0;
    for (const mf_iteration& it : res.history) {
        iter_seconds += it.seconds;
        json h = {{"iter", it.iter}, {"objective", it.objective}, {"seconds", it.seconds}};
        h["train_rmse"] = std::isnan(it.train_rmse) ? json(nullptr) : json(it.train_rmse);
        h["test_rmse"] = std::isnan(it.test_rmse) ? json(nullptr) : json(it.test_rmse);
        history.push_back(h);
    }
    rep["history"] = history;
    json result = {{"iters", res.iters},
                   {"converged", res.converged},
                   {"interrupted", res.interrupted},
                   {"objective", res.history.empty() ? json(nullptr) : json(res.history.back().objective)},
                   {"solve_fallbacks", res.solve_fallbacks}};
    std::string summary;
    if (!m.implicit) {
        const rating_errors tr = evaluate_ratings(m, R);
        result["train_rmse"] = tr.rmse;
        result["train_mae"] = tr.mae;
        summary = fmt::format("train RMSE {:.4f}", tr.rmse);
    }
    if (have_test) {
        json t = {{"ratings", test.nnz()}, {"dropped", dropped}};
        if (!m.implicit) {
            const rating_errors te = evaluate_ratings(m, test);
            t["rmse"] = te.rmse;
            t["mae"] = te.mae;
            summary += fmt::format(", test RMSE {:.4f} MAE {:.4f}", te.rmse, te.mae);
        } else {
            const ranking_metrics r = evaluate_ranking(m, R, test, a.k);
            t["k"] = a.k;
            t["users"] = r.users;
            t["precision"] = r.precision;
            t["recall"] = r.recall;
            t["ndcg"] = r.ndcg;
            t["map"] = r.map;
            t["auc"] = r.auc;
            summary += fmt::format("test precision@{0} {1:.4f} recall@{0} {2:.4f} nDCG@{0} {3:.4f} MAP@{0} {4:.4f} AUC {5:.4f}",
                                   a.k, r.precision, r.recall, r.ndcg, r.map, r.auc);
        }
        result["test"] = t;
    }
    rep["result"] = result;
    rep["timings"] = {{"read", L.seconds}, {"iterations", iter_seconds}, {"fit", res.seconds}, {"total", seconds_since(t0)}};
    rep["files"] = files;
    write_report(a.out, rep);
    std::printf("%s %s rank %lld: %d iterations in %s%s%s\nwrote %s/: user_factors.npy (%lldx%lld), item_factors.npy "
                "(%lldx%lld), ids, report.json\n",
                method_name(a.model).c_str(), m.implicit ? "model" : "ratings model", static_cast<long long>(m.rank()),
                res.iters, human_seconds(res.seconds).c_str(), summary.empty() ? "" : "; ", summary.c_str(),
                a.out.c_str(), static_cast<long long>(m.num_users()), static_cast<long long>(m.rank()),
                static_cast<long long>(m.num_items()), static_cast<long long>(m.rank()));
    return res.interrupted ? exit_interrupted : exit_ok;
}

// ---- eval ------------------------------------------------------------------------------------

struct eval_args {
    ratings_input in;
    model_settings model;
    int folds = 0;
    double test_fraction = 0;
    std::string split = "random";
    long long k = 10;
    std::string json_out;
};

manual eval_manual() {
    manual m;
    m.synopsis = {"facto recommend eval RATINGS [--folds K | --test-fraction F] [--split random|user|time]",
                  "         [--implicit] [--method als|sgd|bpr] [--rank K] ... [-k K] [--json FILE]"};
    m.description =
        "Measures how well a model predicts held-out ratings. The ratings are split with --folds K (K-fold "
        "cross-validation over a seeded random permutation; the default is 5 folds) or --test-fraction F (one "
        "split: random, per user, or the latest ratings by timestamp). For each split the model is fitted on "
        "the training part with the options of `facto recommend fit`.\n"
        "\n"
        "Explicit ratings: prints RMSE and MAE of the global mean, of the bias-only model (mean + b_u + b_i, "
        "fitted by the same ALS with the same --bias-reg) and of the model, per fold and on average. Implicit "
        "feedback: prints precision@k, recall@k, nDCG@k, MAP@k and AUC of item popularity and of the model, "
        "leaving each user's training items out of the ranking.";
    m.sections = {
        {"Examples",
         " facto recommend eval ratings.dat.xz --folds 5 --rank 10 --reg 4 --reg-exponent 0.5\n"
         " facto recommend eval plays.csv --implicit --test-fraction 0.2 --split user -k 10\n"},
        {"Exit status", exit_status_section(false)},
    };
    return m;
}

int run_eval(eval_args& a) {
    check_settings(a.model);
    if (a.folds > 0 && a.test_fraction > 0) throw usage_error("--folds and --test-fraction: give one, not both");
    if (a.test_fraction != 0 && !(a.test_fraction > 0 && a.test_fraction < 1))
        throw usage_error(fmt::format("--test-fraction: expected a number between 0 and 1, found {}", a.test_fraction));
    if (a.test_fraction == 0 && a.folds == 0) a.folds = 5;
    if (a.folds > 0 && a.split != "random")
        throw usage_error(fmt::format("--split {}: k-fold cross-validation splits at random; use --test-fraction", a.split));
    const mf_options o = options_of(a.model);
    const loaded_ratings L = load_ratings(a.in);
    const ratings_table& T = L.table;
    std::fprintf(stderr, "%s: %s ratings, %s users, %s items\n", a.in.path.c_str(),
                 count_text(static_cast<double>(T.size())).c_str(), count_text(static_cast<double>(T.num_users())).c_str(),
                 count_text(static_cast<double>(T.num_items())).c_str());
    std::vector<ratings_split> splits;
    if (a.folds > 0) {
        if (a.folds > T.size())
            throw usage_error(fmt::format("--folds: {} folds for {} ratings", a.folds, T.size()));
        splits = k_fold(T, a.folds, a.model.seed);
    } else {
        splits.push_back(a.split == "user" ? split_per_user(T, a.test_fraction, a.model.seed)
                         : a.split == "time" ? split_by_time(T, a.test_fraction)
                                             : split_random(T, a.test_fraction, a.model.seed));
    }
    install_interrupt_handler();
    const std::string name = method_name(a.model);
    const duplicate_policy dup = a.model.implicit ? duplicate_policy::sum : duplicate_policy::mean;
    json folds = json::array();
    // Per fold: {baseline..., model} rows of metrics.
    std::vector<std::vector<std::vector<double>>> rows;
    const std::vector<std::string> labels =
        a.model.implicit ? std::vector<std::string>{"popularity", name} : std::vector<std::string>{"global-mean", "bias-only", name};
    for (std::size_t f = 0; f < splits.size(); ++f) {
        if (interrupt_requested()) throw usage_error("interrupted");
        const auto t0 = std::chrono::steady_clock::now();
        const csr_matrix train = to_csr(T.subset(splits[f].train), false, dup);
        const csr_matrix test = to_csr(T.subset(splits[f].test), false, dup);
        std::vector<std::vector<double>> r;
        json jf = {{"fold", f + 1}, {"train", train.nnz()}, {"test", test.nnz()}};
        mf_options oo = o;
        oo.on_iteration = [](const mf_iteration&) { return !interrupt_requested(); };
        const mf_result model = fit(method_of(a.model), train, oo);
        if (model.interrupted) throw usage_error("interrupted");
        if (!a.model.implicit) {
            mf_options bo = oo;
            bo.rank = 0;
            bo.biases = true;
            const mf_result bias = als_explicit(train, bo);
            mf_model mean_only = bias.model;
            std::fill(mean_only.user_bias.begin(), mean_only.user_bias.end(), 0.0);
            std::fill(mean_only.item_bias.begin(), mean_only.item_bias.end(), 0.0);
            for (const mf_model* mm : {static_cast<const mf_model*>(&mean_only), &bias.model, &model.model}) {
                const rating_errors e = evaluate_ratings(*mm, test);
                r.push_back({e.rmse, e.mae});
            }
        } else {
            std::vector<double> pop(static_cast<std::size_t>(train.cols), 0.0);
            for (index_t c : train.col_idx) pop[static_cast<std::size_t>(c)] += 1;
            for (int which = 0; which < 2; ++which) {
                const ranking_metrics m = which == 0 ? evaluate_ranking(pop, train, test, a.k)
                                                     : evaluate_ranking(model.model, train, test, a.k);
                r.push_back({m.precision, m.recall, m.ndcg, m.map, m.auc});
            }
        }
        for (std::size_t l = 0; l < labels.size(); ++l) {
            json v;
            if (!a.model.implicit) v = {{"rmse", r[l][0]}, {"mae", r[l][1]}};
            else v = {{"precision", r[l][0]}, {"recall", r[l][1]}, {"ndcg", r[l][2]}, {"map", r[l][3]}, {"auc", r[l][4]}};
            jf[labels[l]] = v;
        }
        jf["seconds"] = seconds_since(t0);
        folds.push_back(jf);
        std::fprintf(stderr, "split %zu/%zu: %s train, %s test ratings, %s\n", f + 1, splits.size(),
                     count_text(static_cast<double>(train.nnz())).c_str(), count_text(static_cast<double>(test.nnz())).c_str(),
                     human_seconds(seconds_since(t0)).c_str());
        rows.push_back(std::move(r));
    }
    // Table: one line per model and split, then the mean.
    const std::vector<std::string> cols = a.model.implicit
                                              ? std::vector<std::string>{fmt::format("prec@{}", a.k), fmt::format("recall@{}", a.k),
                                                                         fmt::format("nDCG@{}", a.k), fmt::format("MAP@{}", a.k), "AUC"}
                                              : std::vector<std::string>{"RMSE", "MAE"};
    std::string out = fmt::format("{:<16} {:<6}", "model", "split");
    for (const auto& c : cols) out += fmt::format(" {:>9}", c);
    out += "\n";
    json means;
    for (std::size_t l = 0; l < labels.size(); ++l) {
        std::vector<double> mean(cols.size(), 0.0);
        for (std::size_t f = 0; f < rows.size(); ++f) {
            if (rows.size() > 1) {
                out += fmt::format("{:<16} {:<6}", labels[l], f + 1);
                for (double v : rows[f][l]) out += fmt::format(" {:>9.4f}", v);
                out += "\n";
            }
            for (std::size_t c = 0; c < cols.size(); ++c) mean[c] += rows[f][l][c] / static_cast<double>(rows.size());
        }
        out += fmt::format("{:<16} {:<6}", labels[l], rows.size() > 1 ? "mean" : "test");
        json jm;
        for (std::size_t c = 0; c < cols.size(); ++c) {
            out += fmt::format(" {:>9.4f}", mean[c]);
            jm[cols[c]] = mean[c];
        }
        out += "\n";
        means[labels[l]] = jm;
    }
    std::fputs(out.c_str(), stdout);
    if (!a.json_out.empty()) {
        json rep = {{"facto_version", FACTO_VERSION},
                    {"command", "recommend eval"},
                    {"date", iso_date_utc()},
                    {"threads", effective_threads(a.model.threads)},
                    {"parameters", options_json(a.model, o)},
                    {"input", table_summary(T, a.in, L.seconds)},
                    {"split", a.folds > 0 ? json({{"folds", a.folds}, {"seed", a.model.seed}})
                                          : json({{"kind", a.split}, {"test_fraction", a.test_fraction}, {"seed", a.model.seed}})},
                    {"k", a.k},
                    {"folds", folds},
                    {"mean", means}};
        write_file_atomic(a.json_out, rep.dump(2) + "\n");
    }
    return exit_ok;
}

// ---- topk ------------------------------------------------------------------------------------

struct topk_args {
    std::string model_dir;
    std::string user;
    std::string all_out;
    std::string similar;
    std::string like;
    long long k = 10;
    ratings_input ratings;  ///< path empty: the model's own training pairs are excluded
    bool keep_seen = false;
    int threads = 0;
};

manual topk_manual() {
    manual m;
    m.synopsis = {"facto recommend topk MODEL (--user ID | --all OUT.tsv | --similar ITEM | --like ITEM[:V],...)",
                  "         [-k K] [--ratings RATINGS] [--keep-seen]"};
    m.description =
        "Recommends with a model written by `facto recommend fit`. --user ID prints the K best items for one "
        "user (rank, item id, score: the predicted rating for explicit models) on stdout; --all OUT.tsv writes "
        "the K best items of every user (user, rank, item, score; tab-separated, written atomically), scoring "
        "blocks of users with one matrix product each. --similar ITEM prints the K items whose factors have the "
        "largest cosine with ITEM's. --like folds in a new user from its interactions (items with optional "
        "ratings or strengths, default 1) against the fixed item factors, without retraining, and prints its "
        "K best items.\n"
        "\n"
        "Items a user has already rated are left out: those of the training data (kept in the model), or those "
        "in --ratings RATINGS when given. --keep-seen leaves nothing out.";
    m.sections = {
        {"Examples",
         " facto recommend topk model --user 42 -k 10\n"
         " facto recommend topk model --all top10.tsv -k 10\n"
         " facto recommend topk model --similar 0114709 -k 5\n"
         " facto recommend topk model --like 0114709:9,0133093:10 -k 10\n"},
        {"Exit status", exit_status_section(false)},
    };
    return m;
}

struct loaded_model {
    mf_model m;
    id_map users, items;
    csr_matrix seen;
    json report;
};

loaded_model load_model(const std::string& dir) {
    if (!std::filesystem::is_directory(dir)) throw usage_error(fmt::format("MODEL: '{}' is not a folder", dir));
    const std::string report_path = join_path(dir, "report.json");
    if (!std::filesystem::exists(report_path))
        throw io_error(fmt::format("{}: no report.json; expected a folder written by 'facto recommend fit'", dir));
    loaded_model L;
    try {
        L.report = json::parse(read_file(report_path));
        if (L.report.value("command", "") != "recommend fit") throw invalid_argument("not a recommend model");
    } catch (const std::exception& e) {
        throw parse_error(report_path, 0, std::string("not a report of 'facto recommend fit': ") + e.what());
    }
    const json& model = L.report["model"];
    const json& p = L.report["parameters"];
    auto load_matrix = [&](const char* name) {
        const tensor t = read_npy<double>(join_path(dir, name));
        if (t.order() != 2) throw parse_error(join_path(dir, name), 0, "expected a matrix");
        return matrix(t.dim(0), t.dim(1), t.values());
    };
    auto load_vector = [&](const char* name) {
        const tensor t = read_npy<double>(join_path(dir, name));
        return t.values();
    };
    L.m.user_factors = load_matrix("user_factors.npy");
    L.m.item_factors = load_matrix("item_factors.npy");
    L.m.implicit = model.value("kind", "") == "implicit";
    L.m.global_mean = model.value("global_mean", 0.0);
    if (model.value("user_biases", false)) L.m.user_bias = load_vector("user_bias.npy");
    if (model.value("item_biases", false)) L.m.item_bias = load_vector("item_bias.npy");
    read_ids(join_path(dir, "users.txt"), L.users);
    read_ids(join_path(dir, "items.txt"), L.items);
    if (L.users.size() != L.m.num_users() || L.items.size() != L.m.num_items() ||
        L.m.user_factors.cols() != L.m.item_factors.cols())
        throw parse_error(dir, 0,
                          fmt::format("inconsistent model: {} user ids for {} user rows, {} item ids for {} item rows",
                                      L.users.size(), L.m.num_users(), L.items.size(), L.m.num_items()));
    const auto indptr = load_vector("seen_indptr.npy"), indices = load_vector("seen_indices.npy");
    L.seen.rows = L.m.num_users();
    L.seen.cols = L.m.num_items();
    L.seen.row_ptr.assign(indptr.begin(), indptr.end());
    L.seen.col_idx.assign(indices.begin(), indices.end());
    L.seen.values.assign(indices.size(), 1.0);
    L.seen.validate("seen_indptr.npy/seen_indices.npy");
    mf_weights& w = L.m.weights;  // as fitted, for fold-in
    w.reg = p.value("reg", w.reg);
    w.bias_reg = p.value("bias_reg", w.bias_reg);
    w.reg_exponent = p.value("reg_exponent", w.reg_exponent);
    w.alpha = p.value("alpha", w.alpha);
    return L;
}

index_t item_index(const loaded_model& L, const std::string& id, const char* option) {
    const index_t i = L.items.find(id);
    if (i < 0) throw invalid_argument(fmt::format("{}: item '{}' is not in the model ({} items)", option, id, L.items.size()));
    return i;
}

void print_list(const loaded_model& L, const topk_lists& t, index_t row) {
    std::printf("rank\titem\tscore\n");
    for (index_t j = 0; j < t.k; ++j) {
        const index_t i = t.items[static_cast<std::size_t>(row * t.k + j)];
        if (i < 0) break;
        std::printf("%lld\t%s\t%.6g\n", static_cast<long long>(j + 1), L.items.id(i).c_str(),
                    t.scores[static_cast<std::size_t>(row * t.k + j)]);
    }
}

int run_topk(topk_args& a) {
    const int modes = !a.user.empty() + !a.all_out.empty() + !a.similar.empty() + !a.like.empty();
    if (modes != 1) throw usage_error("give exactly one of --user ID, --all OUT.tsv, --similar ITEM, --like ITEMS");
    if (a.threads > 0) omp_set_num_threads(a.threads);
    const loaded_model L = load_model(a.model_dir);
    const index_t k = a.k;

    // What to leave out: the training pairs, or those of --ratings, or nothing.
    csr_matrix exclude;
    const csr_matrix* ex = nullptr;
    if (!a.ratings.path.empty()) {
        index_t dropped = 0;
        const ratings_table T = map_onto(load_ratings(a.ratings).table, [&] {
            ratings_table base;
            base.users = L.users;
            base.items = L.items;
            return base;
        }(), dropped);
        exclude = to_csr(T);
        ex = &exclude;
    } else if (!a.keep_seen) {
        ex = &L.seen;
    }
    if (!a.user.empty()) {
        const index_t u = L.users.find(a.user);
        if (u < 0)
            throw invalid_argument(fmt::format("--user: '{}' is not in the model ({} users); use --like for a new user",
                                               a.user, L.users.size()));
        const std::vector<index_t> one = {u};
        print_list(L, recommend_top_k(L.m, k, a.keep_seen ? nullptr : ex, one), 0);
        return exit_ok;
    }
    if (!a.similar.empty()) {
        const std::vector<index_t> one = {item_index(L, a.similar, "--similar")};
        print_list(L, similar_items(L.m, one, k), 0);
        return exit_ok;
    }
    if (!a.like.empty()) {
        std::vector<index_t> items;
        std::vector<double> values;
        std::size_t pos = 0;
        const std::string s = a.like + ",";
        while (pos < s.size()) {
            const std::size_t comma = s.find(',', pos);
            std::string part = s.substr(pos, comma - pos);
            pos = comma + 1;
            if (part.empty()) continue;
            double v = 1;
            const std::size_t colon = part.rfind(':');
            if (colon != std::string::npos) {
                try {
                    std::size_t used = 0;
                    v = std::stod(part.substr(colon + 1), &used);
                    if (used != part.size() - colon - 1) throw std::invalid_argument("trailing text");
                } catch (const std::exception&) {
                    throw usage_error(fmt::format("--like: expected ITEM[:VALUE], found '{}'", part));
                }
                part.resize(colon);
            }
            items.push_back(item_index(L, part, "--like"));
            values.push_back(v);
        }
        if (items.empty()) throw usage_error("--like: expected ITEM[:VALUE],..., found no item");
        print_list(L, recommend_new_user(L.m, items, values, k, L.m.weights), 0);
        return exit_ok;
    }
    const auto t0 = std::chrono::steady_clock::now();
    const topk_lists t = recommend_top_k(L.m, k, a.keep_seen ? nullptr : ex);
    std::string text = "user\trank\titem\tscore\n";
    for (index_t u = 0; u < t.rows(); ++u)
        for (index_t j = 0; j < k; ++j) {
            const index_t i = t.items[static_cast<std::size_t>(u * k + j)];
            if (i < 0) break;
            text += fmt::format("{}\t{}\t{}\t{:.6g}\n", L.users.id(u), j + 1, L.items.id(i), t.scores[static_cast<std::size_t>(u * k + j)]);
        }
    write_file_atomic(a.all_out, text);
    std::printf("wrote %s: top %lld items for %lld users in %s\n", a.all_out.c_str(), static_cast<long long>(k), static_cast<long long>(t.rows()),
                human_seconds(seconds_since(t0)).c_str());
    return exit_ok;
}

}  // namespace

command add_recommend_command(CLI::App& parent) {
    CLI::App* app = parent.add_subcommand("recommend", "recommendation from ratings: fit, eval, topk");
    app->require_subcommand(1);

    auto f = std::make_shared<fit_args>();
    CLI::App* fit_app = app->add_subcommand("fit", "fit a factor model to a ratings file");
    fit_app->add_option("RATINGS", f->in.path, "The ratings: MovieLens '::', tab-separated or CSV (see --format).")
        ->required()
        ->option_text("FILE");
    add_ratings_options(fit_app, f->in);
    add_model_options(fit_app, f->model, true);
    fit_app->add_option("--test", f->test_file,
                        "Held-out ratings in the same format; their RMSE (or ranking metrics) is reported.")
        ->option_text("FILE");
    fit_app->add_option("--test-fraction", f->test_fraction, "Hold out this fraction of RATINGS (see --split).")
        ->option_text("F")
        ->check(number_at_least(0));
    fit_app->add_option("--split", f->split,
                        "How --test-fraction holds out: random ratings, a fraction of each user's, or the latest "
                        "by timestamp.")
        ->option_text("random|user|time")
        ->check(one_of({"random", "user", "time"}));
    fit_app->add_option("-k", f->k, "Implicit with a test set: the cutoff of the ranking metrics.")
        ->option_text("K")
        ->check(integer_at_least(1));
    fit_app->add_option("-o,--out", f->out, "Folder for the model files and report.json; created if needed.")
        ->option_text("MODEL");
    set_manual(fit_app, fit_manual());

    auto e = std::make_shared<eval_args>();
    CLI::App* eval_app = app->add_subcommand("eval", "cross-validated RMSE or ranking metrics next to baselines");
    eval_app->add_option("RATINGS", e->in.path, "The ratings file.")->required()->option_text("FILE");
    add_ratings_options(eval_app, e->in);
    add_model_options(eval_app, e->model, false);
    eval_app->add_option("--folds", e->folds, "K-fold cross-validation (default 5 when --test-fraction is not given).")
        ->option_text("K")
        ->check(integer_at_least(2))
        ->default_str("");
    eval_app->add_option("--test-fraction", e->test_fraction, "One split holding out this fraction.")
        ->option_text("F")
        ->check(number_at_least(0));
    eval_app->add_option("--split", e->split, "With --test-fraction: random, per user, or by time.")
        ->option_text("random|user|time")
        ->check(one_of({"random", "user", "time"}));
    eval_app->add_option("-k", e->k, "Cutoff of the ranking metrics (implicit).")->option_text("K")->check(integer_at_least(1));
    eval_app->add_option("--json", e->json_out, "Also write the results, per split and mean, to this JSON file.")
        ->option_text("FILE");
    set_manual(eval_app, eval_manual());

    auto t = std::make_shared<topk_args>();
    CLI::App* topk_app = app->add_subcommand("topk", "top-k items per user, similar items, new users");
    topk_app->add_option("MODEL", t->model_dir, "A folder written by 'facto recommend fit'.")->required()->option_text("DIR");
    topk_app->add_option("-u,--user", t->user, "Recommend for this user (an id as in the ratings file).")->option_text("ID");
    topk_app->add_option("-a,--all", t->all_out, "Write every user's top K to this TSV file.")->option_text("OUT.tsv");
    topk_app->add_option("--similar", t->similar, "List the items most similar to this one (cosine of factors).")
        ->option_text("ITEM");
    topk_app->add_option("--like", t->like, "A new user's interactions: item ids, each with an optional :rating.")
        ->option_text("ITEM[:V],...");
    topk_app->add_option("-k", t->k, "Number of items per list.")->option_text("K")->check(integer_at_least(1));
    topk_app->add_option("--ratings", t->ratings.path,
                         "Leave out the items each user has in this ratings file instead of the training pairs.")
        ->option_text("FILE");
    topk_app->add_flag("--keep-seen", t->keep_seen, "Leave nothing out: seen items may be recommended again.");
    topk_app->add_option("-j,--threads", t->threads, "OpenMP threads; 0 keeps the default.")
        ->option_text("K")
        ->check(integer_at_least(0));
    set_manual(topk_app, topk_manual());

    manual m;
    m.synopsis = {"facto recommend fit RATINGS [options]      fit a model",
                  "facto recommend eval RATINGS [options]     cross-validate against baselines",
                  "facto recommend topk MODEL [options]       recommend"};
    m.description =
        "Matrix factorization for recommendation: explicit ratings (biased ALS, SGD) and implicit feedback "
        "(weighted ALS, BPR). Run 'facto recommend COMMAND --help' for each command's options.";
    m.sections = {{"Examples",
                   " facto recommend fit ratings.dat --rank 10 --out model\n"
                   " facto recommend eval ratings.dat --folds 5\n"
                   " facto recommend topk model --user 42 -k 10\n"},
                  {"Exit status", exit_status_section(true)}};
    set_manual(app, m);

    return {app, [fit_app, eval_app, topk_app, f, e, t]() -> int {
                if (fit_app->parsed()) return run_fit(*f);
                if (eval_app->parsed()) return run_eval(*e);
                if (topk_app->parsed()) return run_topk(*t);
                throw usage_error("recommend: a command is required: fit, eval or topk");
            }};
}

}  // namespace facto::cli
