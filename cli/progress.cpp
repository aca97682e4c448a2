// cli/progress.cpp: SIGINT flag and the progress bar / per-iteration lines on stderr.
#include "progress.hpp"

#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>

#include "common.hpp"

namespace facto::cli {

namespace {

std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");

extern "C" void on_sigint(int) { g_interrupted.store(true, std::memory_order_relaxed); }

int terminal_width(int fd) {
    winsize ws{};
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40) return ws.ws_col;
    return 80;
}

}  // namespace

void install_interrupt_handler() {
    struct sigaction sa{};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    // One-shot: after the first Ctrl-C the default action is back, so a second one ends the
    // process immediately (the shell sees 130, as for any SIGINT death).
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, nullptr);
}

bool interrupt_requested() noexcept { return g_interrupted.load(std::memory_order_relaxed); }

progress_mode parse_progress_mode(const std::string& name) {
    if (name == "auto") return progress_mode::automatic;
    if (name == "bar") return progress_mode::bar;
    if (name == "lines") return progress_mode::lines;
    if (name == "none") return progress_mode::none;
    throw usage_error("--progress: expected one of auto|bar|lines|none, found '" + name + "'");
}

progress_display::progress_display(int max_iters, progress_mode mode)
    : max_iters_(max_iters),
      bar_(mode == progress_mode::bar || (mode == progress_mode::automatic && isatty(STDERR_FILENO))),
      quiet_(mode == progress_mode::none) {
    if (bar_) width_ = terminal_width(STDERR_FILENO);
}

bool progress_display::operator()(const cp_iteration& it) {
    elapsed_ += it.seconds;
    if (quiet_) return !interrupt_requested();
    if (!bar_) {
        std::fprintf(stderr, "iter %-4d fit %.6f  change %.1e  %.3f s\n", it.iter, it.fit, it.change, it.seconds);
        std::fflush(stderr);
        return !interrupt_requested();
    }
    last_ = it;
    if (it.iter == 1 || it.iter >= max_iters_ || elapsed_ - drawn_at_ >= 0.1) draw_bar(it);
    return !interrupt_requested();
}

void progress_display::draw_bar(const cp_iteration& it) {
    drawn_at_ = elapsed_;
    const double per_iter = elapsed_ / it.iter;
    const double eta = per_iter * std::max(0, max_iters_ - it.iter);
    const std::string counter = fmt::format("iter {:>{}}/{}", it.iter, fmt::formatted_size("{}", max_iters_), max_iters_);
    const std::string stats = fmt::format("fit {:.6f}  change {:.1e}  {:.3f} s/iter  ETA {}", it.fit, it.change,
                                          per_iter, human_seconds(eta));
    // The bar takes what the terminal has left after the counter and the numbers.
    const int room = width_ - 1 - static_cast<int>(counter.size() + stats.size()) - 4;
    std::string line = counter + " ";
    if (room >= 10) {
        const int cells = std::min(room, 40);
        const int done = static_cast<int>(std::lround(cells * std::min(1.0, double(it.iter) / max_iters_)));
        line += "[" + std::string(static_cast<std::size_t>(done), '#') +
                std::string(static_cast<std::size_t>(cells - done), '.') + "] ";
    }
    line += stats;
    if (static_cast<int>(line.size()) >= width_) line.resize(static_cast<std::size_t>(width_ - 1));
    std::fprintf(stderr, "\r%s\x1b[K", line.c_str());
    std::fflush(stderr);
    drawn_ = true;
}

void progress_display::finish(const cp_result& r, double tol) {
    if (drawn_) {
        if (drawn_at_ != elapsed_) draw_bar(last_);  // the final state, if throttling skipped it
        std::fputc('\n', stderr);
    }
    drawn_ = false;
    if (quiet_) return;
    if (r.interrupted)
        std::fprintf(stderr, "interrupted (Ctrl-C) after iteration %d: keeping the model of that iteration\n",
                     r.iters);
    else if (r.converged)
        std::fprintf(stderr, "converged after %d iterations (change in fit below %g)\n", r.iters, tol);
    else
        std::fprintf(stderr, "stopped at the iteration limit (%d) before the change in fit fell below %g\n",
                     r.iters, tol);
    std::fflush(stderr);
}

}  // namespace facto::cli
