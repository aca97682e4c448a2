// cli/progress.hpp: Ctrl-C handling and the per-iteration progress display of CP runs.
#pragma once
#include <string>

#include "facto/decomp/cp.hpp"

namespace facto::cli {

/// Installs the SIGINT handler: the first Ctrl-C only sets a flag (read between iterations, so
/// the run stops cleanly and its model is still written); the handler is installed with
/// SA_RESETHAND, so a second Ctrl-C gets the default action and ends the process at once.
void install_interrupt_handler();
/// Whether Ctrl-C was pressed since install_interrupt_handler().
bool interrupt_requested() noexcept;

/// How iterations are shown on stderr.
enum class progress_mode {
    automatic,  ///< a bar when stderr is a terminal, lines otherwise
    bar,        ///< one line updated in place
    lines,      ///< "iter 3  fit 0.912345  change 1.2e-03  0.014 s"
    none,
};
progress_mode parse_progress_mode(const std::string& name);  ///< auto, bar, lines, none

/// Prints each iteration as it completes (the cp_options::on_iteration callback) and asks the
/// run to stop once Ctrl-C was pressed.
class progress_display {
public:
    progress_display(int max_iters, progress_mode mode);
    /// Shows iteration it; returns false when the run should stop.
    bool operator()(const cp_iteration& it);
    /// Ends the bar's line (the last state stays visible) and says why the run ended.
    void finish(const cp_result& r, double tol);

private:
    void draw_bar(const cp_iteration& it);

    int max_iters_;
    bool bar_;
    bool quiet_;
    bool drawn_ = false;
    double elapsed_ = 0;
    double drawn_at_ = -1;  ///< elapsed_ at the last redraw: the bar is redrawn at most 10 times a second
    cp_iteration last_{};
    int width_ = 80;
};

}  // namespace facto::cli
