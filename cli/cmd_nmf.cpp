// cli/cmd_nmf.cpp: `facto nmf`: nonnegative matrix factorization X ~= W H of a matrix file into
// W.npy, H.npy and report.json, with the top rows/columns (words, genes, cells) per component.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common.hpp"
#include "cp_run.hpp"
#include "facto/core/csr.hpp"
#include "facto/decomp/nmf.hpp"
#include "facto/io/npy.hpp"
#include "help.hpp"
#include "lowrank.hpp"
#include "progress.hpp"

namespace facto::cli {

namespace {

using json = nlohmann::ordered_json;

struct nmf_args {
    std::string input;
    std::string out = "facto-nmf-out";
    std::string method = "hals";
    std::string loss = "frobenius";
    std::string init = "nndsvda";
    std::string mask;
    bool observed_only = false;
    std::string transform = "none";
    long long rank = 0;
    double l1 = 0, l2 = 0;
    int max_iters = 200;
    double tol = 1e-4;
    std::uint64_t seed = 0;
    int threads = 0;
    int inner_iters = 0;
    std::string labels_rows, labels_cols;
    int top = 10;
    std::string progress = "auto";
    read_options read;
};

manual nmf_manual() {
    manual m;
    m.synopsis = {"facto nmf INPUT --rank K [--method hals|mu|anls] [--loss frobenius|kl] [--mask FILE]",
                  "          [--observed-only] [--init nndsvd|nndsvda|random|FILE.npz] [--l1 A] [--l2 A]",
                  "          [--max-iters N] [--tol T] [--seed S] [--threads K] [--out DIR]",
                  "          [--transform none|log1p|tfidf] [--labels-rows FILE] [--labels-cols FILE] [--top N]"};
    m.description =
        "Nonnegative matrix factorization: finds W (m x K) and H (K x n), both >= 0, with X ~= W H, for the "
        "nonnegative matrix X in INPUT (dense or sparse, any supported format). The methods are fast HALS "
        "(hals: one column of W or row of H at a time in closed form, with several cheap sweeps per product "
        "with X as in Gillis & Glineur's accelerated HALS), multiplicative updates (mu, the only method for the "
        "Kullback-Leibler loss) and alternating nonnegative least squares by block principal pivoting (anls). "
        "Iterations stop when the relative error ||X - WH||_F / ||X||_F changes by less than --tol (for "
        "--loss kl: when the divergence changes by less than --tol relative) or after --max-iters.\n"
        "\n"
        "--mask FILE (a matrix of X's shape; nonzero = observed) fits only the observed entries: the others "
        "are missing, not zero, and W H predicts them (weighted NMF). For a sparse INPUT, --observed-only "
        "treats the stored entries as the observed ones (matrix completion; the readers drop explicit zeros, "
        "so observed zeros need --mask). The error is then over the observed entries.\n"
        "\n"
        "--l1 A adds A (||W||_1 + ||H||_1) to 1/2 ||X - WH||^2 (sparser factors); --l2 A adds A/2 (||W||^2 + "
        "||H||^2). --init FILE.npz starts from members W (m x K) and H (K x n), as when comparing with other "
        "tools from the same start.\n"
        "\n"
        "Writes into DIR (created if needed): W.npy (m x K) and H.npy (K x n), float64, components sorted by "
        "decreasing ||w_k|| ||h_k||, and report.json (parameters, input, relative error and seconds per "
        "iteration, timings, result, the top rows and columns of every component). Files are written "
        "atomically. The summary lists, per component, the --top N columns with the largest H values and the "
        "rows with the largest W values, by label when label files are given (one label per line; in a .tsv "
        "the fields after a leading row number, after a header line) or found next to INPUT (a .txt or .tsv "
        "file with exactly one line per row or column, such as sotu_vocab.txt or cell_types.txt).\n"
        "\n"
        "Ctrl-C stops the run after the current iteration: the factors so far and report.json (with "
        "\"interrupted\": true) are still written, and facto exits with status 130.";
    m.sections = {
        {"Formats", formats_section()},
        {"Examples",
         " facto nmf sotu_counts.mtx.xz --rank 20 --transform tfidf   # topics: top words per component\n"
         " facto nmf pbmc3k_counts.mtx.xz --rank 20 --transform log1p --method anls\n"
         " facto nmf X.npy --rank 10 --mask observed.npy --out model\n"
         " facto nmf ratings.mtx --rank 8 --observed-only --l2 0.1\n"
         " facto nmf counts.mtx --rank 5 --method mu --loss kl --max-iters 500\n"
         " python3 -c \"import numpy as np; W=np.load('model/W.npy'); H=np.load('model/H.npy'); print(W@H)\"\n"},
        {"Exit status", exit_status_section(true)},
    };
    return m;
}

// ------------------------------------------------------------------ labels

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
    std::size_t b = 0;
    while (b < s.size() && (s[b] == ' ' || s[b] == '\t')) ++b;
    return s.substr(b);
}

std::vector<std::string> read_lines(const std::string& path) {
    std::ifstream f(path);
    if (!f) throw io_error(fmt::format("cannot open label file '{}'", path));
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(f, line)) lines.push_back(trim(line));
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    return lines;
}

bool is_tsv(const std::string& path) {
    return path.size() > 4 && path.compare(path.size() - 4, 4, ".tsv") == 0;
}

/// Labels for `count` rows or columns from a label file, or nullopt when its line count does not
/// fit (count lines, or a header and count lines). A .tsv line gives its fields after a leading
/// row number, at most two of them ("1790 George Washington").
std::optional<std::vector<std::string>> labels_from(const std::string& path, index_t count) {
    std::vector<std::string> lines = read_lines(path);
    const index_t n = static_cast<index_t>(lines.size());
    if (n == count + 1) lines.erase(lines.begin());  // a header line
    else if (n != count) return std::nullopt;
    if (!is_tsv(path)) return lines;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        std::vector<std::string> fields;
        std::size_t start = 0;
        while (start <= lines[i].size()) {
            const std::size_t end = std::min(lines[i].find('\t', start), lines[i].size());
            fields.push_back(trim(lines[i].substr(start, end - start)));
            start = end + 1;
        }
        std::size_t first = fields.size() > 1 && (fields[0] == std::to_string(i + 1) || fields[0] == std::to_string(i))
                                ? 1
                                : 0;
        std::string label;
        for (std::size_t f = first; f < fields.size() && f < first + 2; ++f) label += (label.empty() ? "" : " ") + fields[f];
        lines[i] = label;
    }
    return lines;
}

/// The label file for rows or columns: the one given, or else the only .txt/.tsv file beside
/// the input (at most 16 MiB) whose line count fits. `found` names the file used.
std::optional<std::vector<std::string>> find_labels(const std::string& given, const std::string& input,
                                                    index_t count, const char* option, std::string& found) {
    if (!given.empty()) {
        auto labels = labels_from(given, count);
        if (!labels)
            throw usage_error(fmt::format("{}: '{}' has {} lines; expected {} (one label per line, optionally "
                                          "after a header line)",
                                          option, given, read_lines(given).size(), count));
        found = given;
        return labels;
    }
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path dir = fs::absolute(fs::path(input), ec).parent_path();
    std::vector<std::pair<std::string, std::vector<std::string>>> matches;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string ext = entry.path().extension().string();
        if ((ext != ".txt" && ext != ".tsv") || !entry.is_regular_file(ec)) continue;
        if (entry.file_size(ec) > (std::uintmax_t{16} << 20)) continue;
        try {
            if (auto labels = labels_from(entry.path().string(), count))
                matches.emplace_back(entry.path().filename().string(), std::move(*labels));
        } catch (const io_error&) {
        }
    }
    if (matches.size() != 1) return std::nullopt;  // none, or ambiguous
    found = matches.front().first;
    return std::move(matches.front().second);
}

// ------------------------------------------------------------------ progress

/// Iterations on stderr: a bar updated in place on a terminal, one line each otherwise.
class nmf_progress {
public:
    nmf_progress(int max_iters, progress_mode mode)
        : max_iters_(max_iters),
          bar_(mode == progress_mode::bar || (mode == progress_mode::automatic && isatty(STDERR_FILENO))),
          quiet_(mode == progress_mode::none) {}

    bool operator()(const nmf_iteration& it) {
        elapsed_ += it.seconds;
        if (!std::isnan(it.rel_error)) last_error_ = it.rel_error;
        if (quiet_) return !interrupt_requested();
        const std::string change = std::isnan(it.change) ? "-" : fmt::format("{:.1e}", it.change);
        if (!bar_) {
            std::fprintf(stderr, "iter %-4d rel error %.6f  change %s  %.3f s\n", it.iter, last_error_, change.c_str(),
                         it.seconds);
        } else if (it.iter == 1 || it.iter >= max_iters_ || elapsed_ - drawn_at_ >= 0.1) {
            drawn_at_ = elapsed_;
            const double per_iter = elapsed_ / it.iter;
            std::fprintf(stderr, "\riter %d/%d  rel error %.6f  change %s  %.3f s/iter  ETA %s\x1b[K", it.iter,
                         max_iters_, last_error_, change.c_str(), per_iter,
                         human_seconds(per_iter * std::max(0, max_iters_ - it.iter)).c_str());
            drawn_ = true;
        }
        std::fflush(stderr);
        return !interrupt_requested();
    }

    void finish(const nmf_result& r, double tol) {
        if (drawn_) std::fputc('\n', stderr);
        if (quiet_) return;
        if (r.interrupted)
            std::fprintf(stderr, "interrupted (Ctrl-C) after iteration %d: keeping the factors of that iteration\n",
                         r.iters);
        else if (r.converged)
            std::fprintf(stderr, "converged after %d iterations (change below %g)\n", r.iters, tol);
        else
            std::fprintf(stderr, "stopped at the iteration limit (%d) before the change fell below %g\n", r.iters, tol);
    }

private:
    int max_iters_;
    bool bar_, quiet_, drawn_ = false;
    double elapsed_ = 0, drawn_at_ = -1, last_error_ = std::nan("");
};

// ------------------------------------------------------------------ inputs

matrix dense_matrix(loaded_input& in) {
    const shape_t shape = in.shape();
    if (in.sparse()) {
        check_densify(shape, "give a sparse mask, or a sparse input");
        tensor d = to_dense(std::get<coo_tensor>(in.tensor));
        return matrix(shape[0], shape[1], std::move(d.values()));
    }
    return matrix(shape[0], shape[1], std::move(std::get<tensor>(in.tensor).values()));
}

csr_matrix sparse_matrix(const loaded_input& in) {
    if (in.sparse()) return to_csr(std::get<coo_tensor>(in.tensor));
    const tensor& X = std::get<tensor>(in.tensor);
    csr_matrix S;
    S.rows = X.shape()[0];
    S.cols = X.shape()[1];
    for (index_t i = 0; i < S.rows; ++i) {
        for (index_t j = 0; j < S.cols; ++j)
            if (const double v = X.data()[i * S.cols + j]; v != 0) {
                S.col_idx.push_back(j);
                S.values.push_back(v);
            }
        S.row_ptr.push_back(S.nnz());
    }
    return S;
}

void require_matrix(const loaded_input& in, const char* what) {
    if (in.shape().size() != 2)
        throw usage_error(fmt::format("{}: {} is a {}-way tensor of shape {}; expected a matrix (2-way)", what,
                                      in.path, in.shape().size(), shape_text(in.shape())));
}

/// W and H from an .npz archive (members W: m x K, H: K x n).
void read_initial(const std::string& path, index_t m, index_t n, long long& rank, nmf_options& o) {
    const auto arrays = read_npz<double>(path);
    if (!arrays.count("W") || !arrays.count("H")) {
        std::string found;
        for (const auto& [name, a] : arrays) found += (found.empty() ? "" : ", ") + name;
        throw invalid_argument(fmt::format("--init: {} holds {}; expected members W (m x K) and H (K x n)", path,
                                           found.empty() ? "no arrays" : found));
    }
    const tensor& W = arrays.at("W");
    const tensor& H = arrays.at("H");
    if (W.order() != 2 || H.order() != 2 || W.dim(0) != m || H.dim(1) != n || W.dim(1) != H.dim(0))
        throw invalid_argument(fmt::format("--init: {}: W is {} and H is {}; expected {} x K and K x {}", path,
                                           shape_text(W.shape()), shape_text(H.shape()), m, n));
    if (rank == 0) rank = W.dim(1);
    if (W.dim(1) != rank)
        throw invalid_argument(fmt::format("--init: {}: W has {} columns; expected the rank, {}", path, W.dim(1), rank));
    o.init = nmf_init::given;
    o.initial_W = matrix(W.dim(0), W.dim(1), W.values());
    o.initial_H = matrix(H.dim(0), H.dim(1), H.values());
}

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// ------------------------------------------------------------------ summary

/// Sorts the components by decreasing ||w_k|| ||h_k|| (the model is unchanged); returns those
/// products in the new order.
std::vector<double> sort_components(nmf_result& r) {
    const index_t m = r.W.rows(), n = r.H.cols(), k = r.W.cols();
    std::vector<double> weight(static_cast<std::size_t>(k));
    for (index_t c = 0; c < k; ++c) {
        double w = 0, h = 0;
        for (index_t i = 0; i < m; ++i) w += r.W(i, c) * r.W(i, c);
        for (index_t j = 0; j < n; ++j) h += r.H(c, j) * r.H(c, j);
        weight[static_cast<std::size_t>(c)] = std::sqrt(w * h);
    }
    std::vector<index_t> order(static_cast<std::size_t>(k));
    std::iota(order.begin(), order.end(), index_t{0});
    std::stable_sort(order.begin(), order.end(), [&](index_t a, index_t b) {
        return weight[static_cast<std::size_t>(a)] > weight[static_cast<std::size_t>(b)];
    });
    matrix W(m, k), H(k, n);
    std::vector<double> sorted;
    for (index_t c = 0; c < k; ++c) {
        const index_t from = order[static_cast<std::size_t>(c)];
        for (index_t i = 0; i < m; ++i) W(i, c) = r.W(i, from);
        for (index_t j = 0; j < n; ++j) H(c, j) = r.H(from, j);
        sorted.push_back(weight[static_cast<std::size_t>(from)]);
    }
    r.W = std::move(W);
    r.H = std::move(H);
    return sorted;
}

/// The `top` largest of values(0 .. count-1) (ties by index), largest first; zeros left out.
template <class Value>
std::vector<index_t> top_indices(index_t count, index_t top, Value value) {
    std::vector<index_t> idx(static_cast<std::size_t>(count));
    std::iota(idx.begin(), idx.end(), index_t{0});
    const index_t t = std::min(top, count);
    std::partial_sort(idx.begin(), idx.begin() + t, idx.end(), [&](index_t a, index_t b) {
        const double va = value(a), vb = value(b);
        return va != vb ? va > vb : a < b;
    });
    idx.resize(static_cast<std::size_t>(t));
    while (!idx.empty() && value(idx.back()) <= 0) idx.pop_back();
    return idx;
}

/// "word1 word2 ..." or, for labels that repeat (categories such as cell types), "B x7, NK x3".
std::string describe(const std::vector<index_t>& idx, const std::vector<std::string>* labels) {
    if (!labels) {
        std::string s;
        for (index_t i : idx) s += (s.empty() ? "" : " ") + std::to_string(i);
        return s;
    }
    std::vector<std::pair<std::string, int>> counts;
    for (index_t i : idx) {
        const std::string& l = (*labels)[static_cast<std::size_t>(i)];
        auto it = std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.first == l; });
        if (it == counts.end()) counts.emplace_back(l, 1);
        else ++it->second;
    }
    std::string s;
    if (counts.size() < idx.size()) {
        std::stable_sort(counts.begin(), counts.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
        for (const auto& [l, c] : counts) s += (s.empty() ? "" : ", ") + fmt::format("{} x{}", l, c);
        return s;
    }
    for (index_t i : idx) s += (s.empty() ? "" : " ") + (*labels)[static_cast<std::size_t>(i)];
    return s;
}

/// --transform on the entries of X (rows = documents or samples for tfidf): log1p: log(1 + x);
/// tfidf: x * idf(column), idf = ln((1 + m) / (1 + df)) (scikit-learn's smooth idf without its
/// "+ 1", so a term in every document, a stop word, weighs 0), then each row scaled to unit
/// 2-norm. Zeros stay zeros, so sparse stays sparse.
template <class Values, class ColumnOf, class RowOf>
void transform_entries(const std::string& how, index_t m, index_t n, Values& values, ColumnOf column_of, RowOf row_of) {
    if (how == "none") return;
    if (how == "log1p") {
        for (double& v : values) v = std::log1p(v);
        return;
    }
    std::vector<double> df(static_cast<std::size_t>(n), 0.0), row_ss(static_cast<std::size_t>(m), 0.0);
    for (std::size_t p = 0; p < values.size(); ++p)
        if (values[p] != 0) df[static_cast<std::size_t>(column_of(p))] += 1;
    for (std::size_t p = 0; p < values.size(); ++p) {
        const double idf = std::log((1.0 + m) / (1.0 + df[static_cast<std::size_t>(column_of(p))]));
        values[p] *= idf;
        row_ss[static_cast<std::size_t>(row_of(p))] += values[p] * values[p];
    }
    for (std::size_t p = 0; p < values.size(); ++p)
        if (const double s = row_ss[static_cast<std::size_t>(row_of(p))]; s > 0) values[p] /= std::sqrt(s);
}

void transform_matrix(const std::string& how, csr_matrix& X) {
    std::vector<index_t> row(X.values.size());
    for (index_t i = 0; i < X.rows; ++i)
        for (index_t p = X.row_ptr[static_cast<std::size_t>(i)]; p < X.row_ptr[static_cast<std::size_t>(i + 1)]; ++p)
            row[static_cast<std::size_t>(p)] = i;
    transform_entries(how, X.rows, X.cols, X.values, [&](std::size_t p) { return X.col_idx[p]; },
                      [&](std::size_t p) { return row[p]; });
}

void transform_matrix(const std::string& how, matrix& X) {
    const index_t n = X.cols();
    transform_entries(how, X.rows(), n, X.values(), [n](std::size_t p) { return static_cast<index_t>(p) % n; },
                      [n](std::size_t p) { return static_cast<index_t>(p) / n; });
}

json json_number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

}  // namespace

command add_nmf_command(CLI::App& parent) {
    auto a = std::make_shared<nmf_args>();
    CLI::App* app = parent.add_subcommand("nmf", "nonnegative matrix factorization (HALS, MU, ANLS), masks, top terms");
    app->add_option("INPUT", a->input, "The nonnegative matrix: a 2-way tensor file, dense or sparse.")
        ->required()
        ->option_text("FILE");
    app->add_option("-r,--rank", a->rank, "Number of components K, at least 1. Required unless --init names a file.")
        ->option_text("K")
        ->check(integer_at_least(1))
        ->default_str("");
    app->add_option("-m,--method", a->method,
                    "hals: fast (accelerated) HALS; mu: multiplicative updates; anls: alternating nonnegative "
                    "least squares (block principal pivoting).")
        ->option_text("hals|mu|anls")
        ->check(one_of({"hals", "mu", "anls"}));
    app->add_option("--loss", a->loss, "frobenius: 1/2 ||X - WH||^2; kl: generalized Kullback-Leibler (--method mu).")
        ->option_text("frobenius|kl")
        ->check(one_of({"frobenius", "kl"}));
    app->add_option("--mask", a->mask,
                    "A matrix of INPUT's shape: entries where it is nonzero are observed, the others missing.")
        ->option_text("FILE");
    app->add_option("--transform", a->transform,
                    "Transform the entries first: log1p: log(1 + x) (counts such as single-cell UMIs); tfidf: "
                    "rows are documents, columns terms: x * ln((1 + m) / (1 + df)), so terms in every document "
                    "weigh 0, rows scaled to unit norm. The error is then that of the transformed matrix.")
        ->option_text("none|log1p|tfidf")
        ->check(one_of({"none", "log1p", "tfidf"}));
    app->add_flag("--observed-only", a->observed_only,
                  "Sparse INPUT: only the stored entries are observed; the others are missing, not zero.");
    app->add_option("-i,--init", a->init,
                    "nndsvd: nonnegative double SVD (keeps zeros); nndsvda: zeros replaced by mean(X) (the "
                    "default, best for mu); random: sqrt(mean(X)/K) |N(0,1)| from --seed; FILE.npz: members W "
                    "and H.")
        ->option_text("nndsvd|nndsvda|random|FILE.npz");
    app->add_option("--l1", a->l1, "L1 penalty on W and H (sparser factors).")->option_text("A")->check(number_at_least(0));
    app->add_option("--l2", a->l2, "L2 penalty on W and H (smaller factors).")->option_text("A")->check(number_at_least(0));
    app->add_option("-n,--max-iters", a->max_iters, "Maximum number of iterations (each updates W, then H).")
        ->option_text("N")
        ->check(integer_at_least(1));
    app->add_option("-t,--tol", a->tol, "Stop when the relative error changes by less than T in one iteration.")
        ->option_text("T")
        ->check(number_at_least(0));
    app->add_option("--inner-iters", a->inner_iters,
                    "hals: most sweeps over the columns per product with X; 0 chooses from the sizes, 1 is plain "
                    "fast HALS (scikit-learn's 'cd').")
        ->option_text("N")
        ->check(integer_at_least(0));
    app->add_option("-s,--seed", a->seed, "Seed of the random and NNDSVD initializations: same seed and threads, same result.")
        ->option_text("S")
        ->check(integer_at_least(0));
    app->add_option("-j,--threads", a->threads, "OpenMP threads; 0 keeps the default (OMP_NUM_THREADS, else one per core).")
        ->option_text("K")
        ->check(integer_at_least(0));
    app->add_option("-o,--out", a->out, "Folder for W.npy, H.npy and report.json; created if needed.")->option_text("DIR");
    app->add_option("--labels-rows", a->labels_rows, "Labels of the rows of INPUT, one per line.")->option_text("FILE");
    app->add_option("--labels-cols", a->labels_cols, "Labels of the columns of INPUT, one per line.")->option_text("FILE");
    app->add_option("--top", a->top, "Rows and columns listed per component in the summary (0: none).")
        ->option_text("N")
        ->check(integer_at_least(0));
    app->add_option("--progress", a->progress,
                    "How iterations are shown on stderr: auto (a bar on a terminal, lines otherwise), bar, lines, "
                    "or none.")
        ->option_text("auto|bar|lines|none")
        ->check(one_of({"auto", "bar", "lines", "none"}));
    add_read_options(app, a->read);
    set_manual(app, nmf_manual());

    return {app, [a]() -> int {
                const auto t0 = std::chrono::steady_clock::now();
                const bool init_file = ends_with(a->init, ".npz") || ends_with(a->init, ".NPZ");
                if (!init_file && a->init != "nndsvd" && a->init != "nndsvda" && a->init != "random")
                    throw usage_error(fmt::format("--init: expected nndsvd, nndsvda, random or an .npz file with W "
                                                  "and H, found '{}'",
                                                  a->init));
                if (a->rank == 0 && !init_file)
                    throw usage_error("--rank: required (or give --init FILE.npz to take the rank from it)");
                if (a->loss == "kl" && a->method != "mu")
                    throw usage_error(fmt::format("--loss kl: needs --method mu, found --method {}", a->method));
                if (!a->mask.empty() && a->observed_only)
                    throw usage_error("--mask and --observed-only: give one of them, not both");
                if (a->transform == "tfidf" && (!a->mask.empty() || a->observed_only))
                    throw usage_error("--transform tfidf: document frequencies need every entry observed; it cannot "
                                      "go with --mask or --observed-only");
                const progress_mode progress = parse_progress_mode(a->progress);
                checked_format(a->input, a->read, "INPUT");
                if (!a->mask.empty()) checked_format(a->mask, read_options{}, "--mask");
                prepare_out_dir(a->out);

                loaded_input in = load_input(a->input, a->read);
                require_matrix(in, "INPUT");
                if (a->observed_only && !in.sparse())
                    throw usage_error("--observed-only: INPUT is dense, so every entry is stored; give --mask instead");
                const index_t m = in.shape()[0], n = in.shape()[1];
                const json summary = input_summary(in);
                std::fprintf(stderr, "%s: %s %s matrix %s, %s nonzeros, read in %s\n", in.path.c_str(),
                             in.format.c_str(), in.sparse() ? "sparse" : "dense", shape_text(in.shape()).c_str(),
                             count_text(static_cast<double>(summary["nnz"].get<index_t>())).c_str(),
                             human_seconds(in.read_seconds).c_str());

                nmf_options o;
                o.method = a->method == "mu" ? nmf_method::mu : a->method == "anls" ? nmf_method::anls : nmf_method::hals;
                o.loss = a->loss == "kl" ? nmf_loss::kullback_leibler : nmf_loss::frobenius;
                o.init = a->init == "nndsvd" ? nmf_init::nndsvd : a->init == "random" ? nmf_init::random : nmf_init::nndsvda;
                if (init_file) read_initial(a->init, m, n, a->rank, o);
                o.rank = static_cast<index_t>(a->rank);
                if ((o.init == nmf_init::nndsvd || o.init == nmf_init::nndsvda) && o.rank > std::min(m, n))
                    throw usage_error(fmt::format("--rank: {} exceeds min(m, n) = {}, which NNDSVD needs; use --init "
                                                  "random",
                                                  o.rank, std::min(m, n)));
                o.l1_W = o.l1_H = a->l1;
                o.l2_W = o.l2_H = a->l2;
                o.max_iters = a->max_iters;
                o.tol = a->tol;
                o.seed = a->seed;
                o.threads = a->threads;
                o.inner_iters = a->inner_iters;
                o.unstored_missing = a->observed_only;

                std::string rows_from, cols_from;
                const auto row_labels = find_labels(a->labels_rows, a->input, m, "--labels-rows", rows_from);
                const auto col_labels = find_labels(a->labels_cols, a->input, n, "--labels-cols", cols_from);
                if (!rows_from.empty()) std::fprintf(stderr, "row labels: %s\n", rows_from.c_str());
                if (!cols_from.empty()) std::fprintf(stderr, "column labels: %s\n", cols_from.c_str());

                std::optional<loaded_input> mask_in;
                if (!a->mask.empty()) {
                    mask_in = load_input(a->mask, read_options{});
                    require_matrix(*mask_in, "--mask");
                    if (mask_in->shape() != in.shape())
                        throw usage_error(fmt::format("--mask: {} has shape {}; expected INPUT's, {}", a->mask,
                                                      shape_text(mask_in->shape()), shape_text(in.shape())));
                }

                install_interrupt_handler();
                nmf_progress show(o.max_iters, progress);
                o.on_iteration = [&show](const nmf_iteration& it) { return show(it); };
                const auto t1 = std::chrono::steady_clock::now();
                nmf_result r;
                if (in.sparse() || (mask_in && mask_in->sparse())) {
                    csr_matrix X = sparse_matrix(in);
                    transform_matrix(a->transform, X);
                    r = mask_in ? nmf(X, sparse_matrix(*mask_in), o) : nmf(X, o);
                } else {
                    matrix X = dense_matrix(in);
                    transform_matrix(a->transform, X);
                    r = mask_in ? nmf(X, dense_matrix(*mask_in), o) : nmf(X, o);
                }
                const double run_seconds = seconds_since(t1);
                show.finish(r, o.tol);
                const std::vector<double> weights = sort_components(r);

                const std::filesystem::path dir(a->out);
                write_npy((dir / "W.npy").string(), r.W);
                write_npy((dir / "H.npy").string(), r.H);

                const index_t top = a->top;
                json components = json::array();
                std::string text;
                const double total_weight = std::accumulate(weights.begin(), weights.end(), 0.0);
                for (index_t c = 0; c < o.rank && top > 0; ++c) {
                    const auto cols = top_indices(n, top, [&](index_t j) { return r.H(c, j); });
                    const auto rows = top_indices(m, top, [&](index_t i) { return r.W(i, c); });
                    json jc{{"component", c + 1}, {"weight", weights[static_cast<std::size_t>(c)]}};
                    for (const auto& [key, idx, labels] :
                         {std::tuple{"top_columns", &cols, col_labels ? &*col_labels : nullptr},
                          std::tuple{"top_rows", &rows, row_labels ? &*row_labels : nullptr}}) {
                        json list = json::array();
                        for (index_t i : *idx) {
                            json e{{"index", i}, {"value", key == std::string("top_columns") ? r.H(c, i) : r.W(i, c)}};
                            if (labels) e["label"] = (*labels)[static_cast<std::size_t>(i)];
                            list.push_back(e);
                        }
                        jc[key] = std::move(list);
                    }
                    components.push_back(std::move(jc));
                    text += fmt::format("component {:>2} ({:4.1f}%)\n", c + 1,
                                        total_weight > 0 ? 100 * weights[static_cast<std::size_t>(c)] / total_weight : 0.0);
                    text += "  columns: " + describe(cols, col_labels ? &*col_labels : nullptr) + "\n";
                    text += "  rows:    " + describe(rows, row_labels ? &*row_labels : nullptr) + "\n";
                }

                json rep;
                rep["facto_version"] = FACTO_VERSION;
                rep["command"] = "nmf";
                rep["model"] = "nmf";
                rep["date"] = iso_date_utc();
                rep["threads"] = effective_threads(a->threads);
                rep["parameters"] = {{"method", a->method}, {"loss", a->loss},
                                     {"rank", a->rank},     {"init", a->init},
                                     {"l1", a->l1},         {"l2", a->l2},
                                     {"max_iters", a->max_iters}, {"tol", a->tol},
                                     {"inner_iters", a->inner_iters}, {"seed", a->seed},
                                     {"mask", a->mask.empty() ? json(nullptr) : json(a->mask)},
                                     {"observed_only", a->observed_only}, {"transform", a->transform},
                                     {"threads", a->threads}};
                rep["input"] = summary;
                double iter_seconds = 0;
                json history = json::array();
                for (const nmf_iteration& it : r.history) {
                    iter_seconds += it.seconds;
                    json h{{"iter", it.iter}, {"rel_error", json_number(it.rel_error)}};
                    if (o.loss == nmf_loss::kullback_leibler) h["divergence"] = json_number(it.divergence);
                    h["change"] = json_number(it.change);
                    h["seconds"] = it.seconds;
                    history.push_back(std::move(h));
                }
                rep["timings"] = {{"read", in.read_seconds + (mask_in ? mask_in->read_seconds : 0.0)},
                                  {"setup", r.setup_seconds},
                                  {"iterations", iter_seconds},
                                  {"seconds_per_iteration", r.iters > 0 ? iter_seconds / r.iters : 0.0},
                                  {"nmf", run_seconds},
                                  {"total", seconds_since(t0)}};
                rep["history"] = std::move(history);
                rep["result"] = {{"rel_error", r.rel_error},
                                 {"divergence", o.loss == nmf_loss::kullback_leibler ? json(r.divergence) : json(nullptr)},
                                 {"iters", r.iters},
                                 {"converged", r.converged},
                                 {"interrupted", r.interrupted},
                                 {"final_change", r.history.empty() ? json(nullptr) : json_number(r.history.back().change)},
                                 {"component_weights", weights}};
                rep["labels"] = {{"rows", rows_from.empty() ? json(nullptr) : json(rows_from)},
                                 {"columns", cols_from.empty() ? json(nullptr) : json(cols_from)}};
                rep["components"] = std::move(components);
                rep["files"] = {{"W", "W.npy"}, {"H", "H.npy"}};
                write_report(a->out, rep);

                const char* how = r.interrupted ? "interrupted" : r.converged ? "converged" : "iteration limit";
                std::printf("relative error %.6f after %d iterations (%s), %s in all\n", r.rel_error, r.iters, how,
                            human_seconds(seconds_since(t0)).c_str());
                std::fputs(text.c_str(), stdout);
                std::printf("wrote %s/: W.npy (%lldx%lld), H.npy (%lldx%lld), report.json\n", a->out.c_str(),
                            static_cast<long long>(r.W.rows()), static_cast<long long>(r.W.cols()),
                            static_cast<long long>(r.H.rows()), static_cast<long long>(r.H.cols()));
                return r.interrupted ? exit_interrupted : exit_ok;
            }};
}

}  // namespace facto::cli
