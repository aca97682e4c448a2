// cli/cmd_fmm_kernels.cpp: being written (placeholder registration until its implementation lands).
#include "common.hpp"

namespace facto::cli {

std::vector<command> add_fmm_kernel_commands(CLI::App& fmm) {
    std::vector<command> out;
    for (const char* name : {"codegen", "bench"}) {
        CLI::App* app = fmm.add_subcommand(name, "not available yet");
        out.push_back({app, []() -> int { throw usage_error("this command is not available yet"); }});
    }
    return out;
}

}  // namespace facto::cli
