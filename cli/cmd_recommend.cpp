// cli/cmd_recommend.cpp: being written (placeholder registration until its implementation lands).
#include "common.hpp"

namespace facto::cli {

command add_recommend_command(CLI::App& parent) {
    CLI::App* app = parent.add_subcommand("recommend", "recommendation from ratings");
    return {app, []() -> int { throw usage_error("this command is not available yet"); }};
}

}  // namespace facto::cli
