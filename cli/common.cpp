// cli/common.cpp: validators, input loading and formatting helpers shared by the subcommands.
#include "common.hpp"

#include <omp.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <ctime>

#include <fmt/format.h>

#include "facto/io/file.hpp"

namespace facto::cli {

namespace {

std::string in_quotes(const std::string& s) { return "'" + s + "'"; }

const std::vector<std::string> known_formats = {"tns", "npy", "npz", "mtx", "csv", "tsv"};

}  // namespace

CLI::Validator integer_at_least(long long min) {
    return CLI::Validator(
        [min](std::string& text) -> std::string {
            long long v = 0;
            const char* end = text.data() + text.size();
            auto [p, ec] = std::from_chars(text.data(), end, v);
            if (ec == std::errc::result_out_of_range)
                return fmt::format("expected an integer >= {}, found {} (too large)", min, in_quotes(text));
            if (ec != std::errc() || p != end || text.empty())
                return fmt::format("expected an integer >= {}, found {}", min, in_quotes(text));
            if (v < min) return fmt::format("expected an integer >= {}, found {}", min, v);
            return {};
        },
        fmt::format("INT>={}", min));
}

CLI::Validator number_at_least(double min) {
    return CLI::Validator(
        [min](std::string& text) -> std::string {
            double v = 0;
            const char* end = text.data() + text.size();
            auto [p, ec] = std::from_chars(text.data(), end, v);
            if (ec != std::errc() || p != end || text.empty() || !std::isfinite(v))
                return fmt::format("expected a number >= {}, found {}", min, in_quotes(text));
            if (v < min) return fmt::format("expected a number >= {}, found {}", min, text);
            return {};
        },
        fmt::format("NUMBER>={}", min));
}

CLI::Validator one_of(std::vector<std::string> choices) {
    std::string list;
    for (std::size_t i = 0; i < choices.size(); ++i) list += (i ? "|" : "") + choices[i];
    return CLI::Validator(
        [choices, list](std::string& text) -> std::string {
            if (std::find(choices.begin(), choices.end(), text) != choices.end()) return {};
            return fmt::format("expected one of {}, found {}", list, in_quotes(text));
        },
        list);
}

void add_read_options(CLI::App* app, read_options& opts) {
    app->add_option("--format", opts.format,
                    "Read INPUT in this format whatever its extension says.")
        ->option_text("tns|npy|npz|mtx|csv|tsv")
        ->check(one_of(known_formats))
        ->group("Input options");
    app->add_option("--key", opts.key, "The member of an .npz archive to read (default: its first array).")
        ->option_text("NAME")
        ->group("Input options");
    app->add_option("--shape", opts.shape,
                    "Dimensions of a sparse coordinate file, when some are larger than the largest "
                    "index in it (a .tns file cannot record trailing empty slices).")
        ->option_text("D1,D2,...")
        ->delimiter(',')
        ->check(CLI::PositiveNumber)
        ->group("Input options");
    app->add_flag("--dense-csv", opts.dense_csv,
                  "Read a .csv/.tsv file as a dense table (rows x columns) even when its rows look "
                  "like coordinates (integer indices, then a value).")
        ->group("Input options");
}

std::string checked_format(const std::string& path, const read_options& opts, const char* what) {
    const std::string fmt_name = opts.format.empty() ? format_extension(path) : opts.format;
    if (std::find(known_formats.begin(), known_formats.end(), fmt_name) == known_formats.end())
        throw usage_error(fmt::format("{}: cannot tell the format of '{}' from its extension {}; expected "
                                      "one of {}",
                                      what, path, fmt_name.empty() ? "(none)" : "'." + fmt_name + "'",
                                      supported_formats()));
    return fmt_name;
}

const shape_t& loaded_input::shape() const {
    return std::visit([](const auto& X) -> const shape_t& {
        if constexpr (std::is_same_v<std::decay_t<decltype(X)>, facto::tensor>)
            return X.shape();
        else
            return X.shape;
    }, this->tensor);
}

loaded_input load_input(const std::string& path, const read_options& opts) {
    loaded_input in;
    in.path = path;
    in.format = checked_format(path, opts, "INPUT");
    const std::string stripped = strip_compression_suffix(path);
    if (stripped.size() < path.size()) in.compression = path.substr(stripped.size() + 1);
    std::transform(in.compression.begin(), in.compression.end(), in.compression.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const auto t0 = std::chrono::steady_clock::now();
    in.tensor = read_tensor(path, opts);
    in.read_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return in;
}

std::string human_bytes(double bytes) {
    static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    int u = 0;
    while (bytes >= 1024 && u < 5) {
        bytes /= 1024;
        ++u;
    }
    return u == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.1f} {}", bytes, units[u]);
}

std::string human_seconds(double s) {
    if (s < 1e-3) return fmt::format("{:.0f} us", s * 1e6);
    if (s < 1) return fmt::format("{:.0f} ms", s * 1e3);
    if (s < 60) return fmt::format("{:.1f} s", s);
    const long long total = std::llround(s);
    if (total < 3600) return fmt::format("{} min {:02d} s", total / 60, static_cast<int>(total % 60));
    return fmt::format("{} h {:02d} min", total / 3600, static_cast<int>(total % 3600 / 60));
}

std::string iso_date_utc() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string shape_text(const shape_t& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) out += (i ? " x " : "") + std::to_string(s[i]);
    return out;
}

std::string count_text(double n) {
    if (!(std::fabs(n) < 1e18)) return fmt::format("{:.3g}", n);
    std::string digits = std::to_string(std::llround(std::fabs(n)));
    for (int pos = static_cast<int>(digits.size()) - 3; pos > 0; pos -= 3) digits.insert(static_cast<std::size_t>(pos), ",");
    return (n < 0 ? "-" : "") + digits;
}

int effective_threads(int requested) { return requested > 0 ? requested : omp_get_max_threads(); }

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

shape_t parse_positive_list(const std::string& text, const char* option) {
    shape_t values;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t end = std::min(text.find(',', start), text.size());
        const std::string item = text.substr(start, end - start);
        long long v = 0;
        const auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
        if (item.empty() || ec != std::errc() || ptr != item.data() + item.size() || v < 1)
            throw usage_error(fmt::format("{}: expected comma-separated integers >= 1, found '{}' in '{}'", option,
                                          item, text));
        values.push_back(static_cast<index_t>(v));
        start = end + 1;
    }
    return values;
}

}  // namespace facto::cli
