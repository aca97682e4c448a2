// cli/cmd_fmm_lift.cpp: being written (placeholder registration until its implementation lands).
#include "common.hpp"

namespace facto::cli {

command add_fmm_lift_command(CLI::App& fmm) {
    CLI::App* app = fmm.add_subcommand("lift", "lift a GF(2) scheme to the integers");
    return {app, []() -> int { throw usage_error("this command is not available yet"); }};
}

}  // namespace facto::cli
