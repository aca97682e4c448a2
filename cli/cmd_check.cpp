// cli/cmd_check.cpp: `facto check`: every problem in a tensor file, by line, like a compiler.
#include <algorithm>
#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "common.hpp"
#include "help.hpp"

namespace facto::cli {

namespace {

struct check_args {
    std::string input;
    std::size_t max_problems = 100;
};

std::string plural_text(std::size_t n, const char* one, const char* many) { return fmt::format("{} {}", n, n == 1 ? one : many); }

}  // namespace

command add_check_command(CLI::App& parent) {
    auto a = std::make_shared<check_args>();
    CLI::App* app = parent.add_subcommand("check", "list every problem in a tensor file, by line");
    app->add_option("INPUT", a->input, "The tensor file to check.")->required()->option_text("FILE");
    app->add_option("--max-problems", a->max_problems, "Stop listing after this many problems.")
        ->option_text("N")
        ->check(integer_at_least(1));

    manual m;
    m.synopsis = {"facto check INPUT [--max-problems N]"};
    m.description =
        "Reads INPUT the way `facto cp` would, but instead of stopping at the first problem lists them "
        "all (up to --max-problems), one per line as FILE:LINE: error: MESSAGE or FILE:LINE: warning: "
        "MESSAGE, then a summary line. Errors make the file unusable (wrong number of fields, text that "
        "is not a number, index 0 in a 1-based file, negative indices, NaN or Inf values); warnings "
        "point at content that is probably not what was meant (duplicate coordinates, which are summed; "
        "explicit zeros; empty slices).";
    m.sections = {{"Formats", formats_section()},
                  {"Examples", " facto check data.tns && facto cp data.tns --rank 8\n"},
                  {"Exit status",
                   " 0    no errors (warnings allowed)\n"
                   " 1    the file has errors, or cannot be read\n"
                   " 2    bad command line\n"}};
    set_manual(app, std::move(m));

    return {app, [a]() -> int {
                checked_format(a->input, {}, "INPUT");
                const check_report rep = check_tensor_file(a->input, a->max_problems);
                struct line_problem {
                    std::size_t line;
                    bool error;
                    const std::string* message;
                };
                std::vector<line_problem> all;
                for (const auto& p : rep.errors) all.push_back({p.line, true, &p.message});
                for (const auto& p : rep.warnings) all.push_back({p.line, false, &p.message});
                std::stable_sort(all.begin(), all.end(),
                                 [](const line_problem& x, const line_problem& y) { return x.line < y.line; });
                for (const auto& p : all) {
                    const std::string where =
                        p.line ? fmt::format("{}:{}", a->input, p.line) : a->input;
                    std::printf("%s: %s: %s\n", where.c_str(), p.error ? "error" : "warning", p.message->c_str());
                }
                const std::string shape = rep.shape.empty() ? "shape unknown" : shape_text(rep.shape);
                std::printf("%s: %s, %s, %s read: %s, %s%s; %s\n", a->input.c_str(), rep.format.c_str(),
                            shape.c_str(), (count_text(static_cast<double>(rep.entries)) + (rep.entries == 1 ? " entry" : " entries")).c_str(),
                            plural_text(rep.errors.size(), "error", "errors").c_str(),
                            plural_text(rep.warnings.size(), "warning", "warnings").c_str(),
                            rep.truncated ? " (more not shown: raise --max-problems)" : "",
                            rep.errors.empty() ? "usable" : "not usable");
                return rep.errors.empty() ? exit_ok : exit_failure;
            }};
}

}  // namespace facto::cli
