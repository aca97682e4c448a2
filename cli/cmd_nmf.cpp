// cli/cmd_nmf.cpp: being written (placeholder registration until its implementation lands).
#include "common.hpp"

namespace facto::cli {

command add_nmf_command(CLI::App& parent) {
    CLI::App* app = parent.add_subcommand("nmf", "nonnegative matrix factorization");
    return {app, []() -> int { throw usage_error("this command is not available yet"); }};
}

}  // namespace facto::cli
