// cli/common.hpp: what the facto subcommands share: exit codes, usage errors, option
// validators, input loading and small formatting helpers.
#pragma once
#include <chrono>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "facto/io/any.hpp"

namespace facto::cli {

/// Exit statuses, as documented under EXIT STATUS in --help.
enum exit_status : int {
    exit_ok = 0,
    exit_failure = 1,      ///< unreadable file, parse error, failed write
    exit_usage = 2,        ///< bad command line
    exit_interrupted = 130 ///< Ctrl-C: the model of the last completed iteration was written
};

/// A bad command line found after parsing (exit status 2), as opposed to a failure while
/// running (1). The message names the argument, what was found and what was expected.
struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// A subcommand: its CLI11 app, and what runs it once the command line is parsed.
struct command {
    CLI::App* app = nullptr;
    std::function<int()> run;
};

command add_cp_command(CLI::App& parent);
command add_info_command(CLI::App& parent);
command add_check_command(CLI::App& parent);
command add_convert_command(CLI::App& parent);
command add_demo_command(CLI::App& parent);

// Validators run on the argument text before CLI11 converts it, so the message can say what
// was found: "--rank: expected an integer >= 1, found 'abc'".
CLI::Validator integer_at_least(long long min);
CLI::Validator number_at_least(double min);
CLI::Validator one_of(std::vector<std::string> choices);

/// The input options shared by the commands that read a tensor (--format, --key, --dense-csv).
void add_read_options(CLI::App* app, read_options& opts);

/// A tensor as read from INPUT, with what the report needs to say about the file.
struct loaded_input {
    any_tensor tensor;
    std::string path;
    std::string format;       ///< tns, npy, npz, mtx, csv, tsv
    std::string compression;  ///< "gz", "xz" or empty
    double read_seconds = 0;

    bool sparse() const noexcept { return tensor.index() == 1; }
    const shape_t& shape() const;
};

/// read_tensor() with timing. The format is checked against supported_formats() first, so an
/// unknown extension is a usage error (exit 2) rather than a failure.
loaded_input load_input(const std::string& path, const read_options& opts);

/// Format of a path by extension (after .gz/.xz) as read_tensor() will see it; throws
/// usage_error naming `what` (INPUT, OUTPUT) when it is not one facto reads or writes.
std::string checked_format(const std::string& path, const read_options& opts, const char* what);

std::string human_bytes(double bytes);      ///< "1.5 MiB"
std::string human_seconds(double seconds);  ///< "850 ms", "12.3 s", "4 min 05 s"
std::string iso_date_utc();                 ///< "2026-11-24T05:04:36Z"
std::string shape_text(const shape_t& s);   ///< "1797 x 8 x 8"
std::string count_text(double n);           ///< "76,879,419"; "1.2e+21" past 1e18

/// Number of OpenMP threads a run with --threads K (0: the default) will use.
int effective_threads(int requested);

/// Seconds since t0, for report timings.
double seconds_since(std::chrono::steady_clock::time_point t0);

/// "5,5,3" -> {5, 5, 3}: comma-separated integers >= 1 given to `option` (for messages);
/// a usage_error saying what was found otherwise.
shape_t parse_positive_list(const std::string& text, const char* option);

}  // namespace facto::cli
