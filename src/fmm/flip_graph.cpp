// src/fmm/flip_graph.cpp: the flip-graph walker (terms with per-position hash indexes and
// intrusive lists) and the pooled multi-threaded search.
#include "facto/fmm/flip_graph.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <functional>
#include <chrono>
#include <limits>
#include <mutex>
#include <thread>

#include "facto/core/error.hpp"

namespace facto::fmm {

namespace {

// Open-addressing (linear probing, backward-shift deletion) map from a nonzero factor to the
// head of the list of terms holding it and the list length. Zero marks an empty slot; factors
// are never zero because terms with a zero factor are removed at once.
class factor_index {
public:
    void reset(std::size_t max_entries) {
        std::size_t cap = 16;
        while (cap < 2 * max_entries + 2) cap *= 2;
        keys_.assign(cap, 0);
        head_.assign(cap, -1);
        count_.assign(cap, 0);
        mask_ = cap - 1;
        size_ = 0;
    }
    std::size_t capacity() const noexcept { return keys_.size(); }
    std::size_t size() const noexcept { return size_; }

    std::size_t find(factor_t key) const noexcept {
        for (std::size_t i = slot(key);; i = (i + 1) & mask_) {
            if (keys_[i] == key) return i;
            if (keys_[i] == 0) return npos;
        }
    }
    std::size_t find_or_insert(factor_t key) noexcept {
        std::size_t i = slot(key);
        for (; keys_[i] != 0; i = (i + 1) & mask_)
            if (keys_[i] == key) return i;
        keys_[i] = key;
        head_[i] = -1;
        count_[i] = 0;
        ++size_;
        return i;
    }
    void erase(std::size_t i) noexcept {
        // Backward shift: move later members of the probe run into the hole.
        std::size_t hole = i;
        for (std::size_t j = (i + 1) & mask_; keys_[j] != 0; j = (j + 1) & mask_) {
            const std::size_t home = slot(keys_[j]);
            if (((j - home) & mask_) >= ((j - hole) & mask_)) {
                keys_[hole] = keys_[j], head_[hole] = head_[j], count_[hole] = count_[j];
                hole = j;
            }
        }
        keys_[hole] = 0;
        --size_;
    }
    std::int32_t& head(std::size_t i) noexcept { return head_[i]; }
    std::int32_t& count(std::size_t i) noexcept { return count_[i]; }

    static constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();

private:
    std::size_t slot(factor_t key) const noexcept {
        return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & mask_;
    }
    std::vector<factor_t> keys_;
    std::vector<std::int32_t> head_, count_;
    std::size_t mask_ = 0, size_ = 0;
};

std::uint64_t below(std::mt19937_64& rng, std::uint64_t n) {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(rng()) * n) >> 64);
}

}  // namespace

struct flip_walker::impl {
    int n, m, p;
    product_kind product;
    bool linear;                                             // linear-dependence reductions on
    std::vector<std::array<factor_t, 3>> f;                  // the terms
    std::array<std::vector<std::int32_t>, 3> next, prev;     // per-position lists
    std::array<factor_index, 3> index;
    std::vector<std::int32_t> work;                          // terms to check for reductions
    // Flip candidates: every (term, position) whose factor another term shares, as 3 * t + q,
    // with each one's place in the list (-1: not a candidate), kept by link/unlink. A flip
    // draws from it directly instead of drawing (term, position) pairs until one has a
    // partner (most draws miss at low rank, and each costs random numbers and a probe).
    std::vector<std::int32_t> cand;
    std::array<std::vector<std::int32_t>, 3> cand_at;

    impl(const scheme& s, bool linear_reductions) : n(s.n), m(s.m), p(s.p), product(s.product), linear(linear_reductions) {
        require_valid(s, "fmm::flip_walker");
        f.reserve(s.terms.size() + 16);
        for (const term& t : s.terms) f.push_back({t.u, t.v, t.w});
        rebuild();
    }

    void rebuild() {
        for (int q = 0; q < 3; ++q) {
            index[q].reset(2 * f.size() + 16);
            next[q].assign(f.size(), -1);
            prev[q].assign(f.size(), -1);
        }
        cand.clear();
        // Zero terms (an input such as 0 (x) b (x) c) contribute nothing: drop them first.
        f.erase(std::remove_if(f.begin(), f.end(), [](const auto& t) { return !t[0] || !t[1] || !t[2]; }), f.end());
        for (int q = 0; q < 3; ++q) cand_at[q].assign(f.size(), -1);
        for (std::int32_t t = 0; t < static_cast<std::int32_t>(f.size()); ++t)
            for (int q = 0; q < 3; ++q) link(t, q);
    }

    void cand_add(std::int32_t t, int q) {
        cand_at[q][t] = static_cast<std::int32_t>(cand.size());
        cand.push_back(3 * t + q);
    }
    void cand_remove(std::int32_t t, int q) {
        const std::int32_t i = cand_at[q][t], last = cand.back();
        cand[i] = last;
        cand_at[last % 3][last / 3] = i;
        cand.pop_back();
        cand_at[q][t] = -1;
    }

    // Every index has room for 2 * its entries + 2 (entries <= terms); add_term() grows it.
    void link(std::int32_t t, int q) {
        const std::size_t s = index[q].find_or_insert(f[t][q]);
        const std::int32_t h = index[q].head(s);
        next[q][t] = h;
        prev[q][t] = -1;
        if (h >= 0) prev[q][h] = t;
        index[q].head(s) = t;
        const std::int32_t c = ++index[q].count(s);
        if (c == 2) cand_add(h, q);
        if (c >= 2) cand_add(t, q);
    }
    void unlink(std::int32_t t, int q) {
        const std::size_t s = index[q].find(f[t][q]);
        const std::int32_t a = prev[q][t], b = next[q][t];
        const std::int32_t c = index[q].count(s);
        if (c >= 2) cand_remove(t, q);
        if (c == 2) cand_remove(a >= 0 ? a : b, q);
        if (a >= 0) next[q][a] = b;
        else index[q].head(s) = b;
        if (b >= 0) prev[q][b] = a;
        if (--index[q].count(s) == 0) index[q].erase(s);
    }
    void set_factor(std::int32_t t, int q, factor_t value) {
        unlink(t, q);
        f[t][q] = value;
        link(t, q);
    }
    std::int32_t add_term(const std::array<factor_t, 3>& t) {
        if (2 * (f.size() + 1) + 2 > index[0].capacity()) {
            f.push_back(t);
            rebuild();  // rare: only when plus-transitions raise the rank past the room
            return static_cast<std::int32_t>(f.size() - 1);
        }
        f.push_back(t);
        for (int q = 0; q < 3; ++q) next[q].push_back(-1), prev[q].push_back(-1), cand_at[q].push_back(-1);
        const auto id = static_cast<std::int32_t>(f.size() - 1);
        for (int q = 0; q < 3; ++q) link(id, q);
        return id;
    }
    // Removes term t by moving the last term into its slot; fixes the work list and `keep`.
    void remove_term(std::int32_t t, std::int32_t* keep = nullptr) {
        const auto last = static_cast<std::int32_t>(f.size() - 1);
        for (int q = 0; q < 3; ++q) unlink(t, q);
        if (t != last) {
            for (int q = 0; q < 3; ++q) unlink(last, q);
            f[t] = f[last];
            for (int q = 0; q < 3; ++q) link(t, q);
        }
        f.pop_back();
        for (int q = 0; q < 3; ++q) next[q].pop_back(), prev[q].pop_back(), cand_at[q].pop_back();
        for (auto& w : work) {
            if (w == t) w = -1;
            else if (w == last) w = t;
        }
        if (keep && *keep == last) *keep = t;
    }

    // Linear-dependence reduction involving term x: x shares its factor a (position `a`) with
    // other terms, and its factor in a second position b is the sum of theirs over a subset S
    // (a GF(2) elimination over the group). Then
    //   x + sum_{t in S} t = sum_{t in S} (a) (x) (b_t) (x) (c_t + c_x)   (c: the third position),
    // so x goes and c_x is added to each t in S. Returns whether it applied. Pairs (|S| = 1) are
    // the two-shared-factor merge, found by the caller first.
    bool reduce_linear(std::int32_t x) {
        constexpr int max_group = 64;  // combination masks are one word
        std::array<std::int32_t, max_group> members;
        std::array<factor_t, max_group> basis;
        std::array<std::uint64_t, max_group> combo;
        for (int a = 0; a < 3; ++a) {
            const std::size_t slot = index[a].find(f[x][a]);
            const int count = index[a].count(slot);
            if (count < 3 || count > max_group + 1) continue;
            int g = 0;
            for (std::int32_t c = index[a].head(slot); c >= 0; c = next[a][c])
                if (c != x) members[g++] = c;
            for (int b = 0; b < 3; ++b) {
                if (b == a) continue;
                // Reduced row echelon basis of the members' b factors (pivot: highest bit), with
                // the set of members each basis vector sums.
                int rank = 0;
                for (int e = 0; e < g; ++e) {
                    factor_t v = f[members[e]][b];
                    std::uint64_t mask = std::uint64_t{1} << e;
                    for (int q = 0; q < rank; ++q)
                        if (v & (factor_t{1} << (63 - std::countl_zero(basis[q])))) v ^= basis[q], mask ^= combo[q];
                    if (v) basis[rank] = v, combo[rank] = mask, ++rank;
                }
                factor_t v = f[x][b];
                std::uint64_t mask = 0;
                for (int q = 0; q < rank; ++q)
                    if (v & (factor_t{1} << (63 - std::countl_zero(basis[q])))) v ^= basis[q], mask ^= combo[q];
                if (v != 0 || mask == 0) continue;
                apply_linear(x, 3 - a - b, members, g, mask);
                return true;
            }
        }
        return false;
    }

    // x's factor in some position is the sum of those of the members in `mask`, which share its
    // factor in another; k is the third position. Adds f[x][k] to their k factors, removes x.
    void apply_linear(std::int32_t x, int k, const std::array<std::int32_t, 64>& members, int g, std::uint64_t mask) {
        std::array<std::int32_t, 64> chosen;
        int count = 0;
        for (int e = 0; e < g; ++e)
            if (mask >> e & 1) chosen[count++] = members[e];
        const factor_t add = f[x][k];
        std::array<std::int32_t, 64> zeroed;
        int zeros = 0;
        for (int e = 0; e < count; ++e) {
            const std::int32_t t = chosen[e];
            const factor_t value = f[t][k] ^ add;
            if (value) {
                set_factor(t, k, value);
                work.push_back(t);
            } else {
                zeroed[zeros++] = t;
            }
        }
        zeroed[zeros++] = x;
        // Remove the highest index first: a removal moves the last term into the freed slot.
        std::sort(zeroed.begin(), zeroed.begin() + zeros, std::greater<>());
        for (int e = 0; e < zeros; ++e) remove_term(zeroed[e]);
    }

    // Merges terms sharing two factors, and applies linear-dependence reductions when enabled,
    // starting from the terms in `work`, until none is left.
    void reduce_work() {
        while (!work.empty()) {
            const std::int32_t x = work.back();
            work.pop_back();
            if (x < 0) continue;
            std::int32_t y = -1;
            int k = -1;
            for (int a = 0; a < 2 && y < 0; ++a) {
                const std::size_t s = index[a].find(f[x][a]);
                for (std::int32_t c = index[a].head(s); c >= 0 && y < 0; c = next[a][c]) {
                    if (c == x) continue;
                    for (int b = a + 1; b < 3; ++b)
                        if (f[c][b] == f[x][b]) {
                            y = c, k = 3 - a - b;
                            break;
                        }
                }
            }
            if (y < 0) {
                if (linear) reduce_linear(x);
                continue;
            }
            // x and y share every factor but k: x + y = (shared) (x) (f_k[x] + f_k[y]).
            const factor_t merged = f[x][k] ^ f[y][k];
            remove_term(x, &y);
            if (merged == 0) {
                remove_term(y);
            } else {
                set_factor(y, k, merged);
                work.push_back(y);
            }
        }
    }

    void flip(std::int32_t t, std::int32_t s, int pos) {
        const int q1 = (pos + 1) % 3, q2 = (pos + 2) % 3;
        const factor_t nt = f[t][q1] ^ f[s][q1];
        const factor_t ns = f[s][q2] ^ f[t][q2];
        work.clear();
        if (nt) set_factor(t, q1, nt), work.push_back(t);
        if (ns) set_factor(s, q2, ns), work.push_back(s);
        // A zero factor removes its term; remove the higher index first so the other keeps its slot.
        if (!nt && !ns) {
            remove_term(std::max(t, s));
            remove_term(std::min(t, s));
        } else if (!nt) {
            remove_term(t);
        } else if (!ns) {
            remove_term(s);
        }
        reduce_work();
    }
};

flip_walker::flip_walker(const scheme& s, bool linear_reductions) : p_(std::make_unique<impl>(s, linear_reductions)) {}
flip_walker::~flip_walker() = default;

int flip_walker::rank() const noexcept { return static_cast<int>(p_->f.size()); }

scheme flip_walker::current() const {
    scheme s{p_->n, p_->m, p_->p, {}, p_->product};
    s.terms.reserve(p_->f.size());
    for (const auto& t : p_->f) s.terms.push_back({t[0], t[1], t[2]});
    return s;
}

bool flip_walker::random_flip(std::mt19937_64& rng) {
    impl& w = *p_;
    if (w.cand.empty()) return false;
    // Uniform over the (term, position) pairs whose factor is shared, then over the partners.
    const std::int32_t c = w.cand[below(rng, w.cand.size())];
    const std::int32_t t = c / 3;
    const int pos = c % 3;
    const std::size_t slot = w.index[pos].find(w.f[t][pos]);
    const std::int32_t count = w.index[pos].count(slot);
    std::int32_t s = w.index[pos].head(slot);
    if (count == 2) {
        if (s == t) s = w.next[pos][s];  // the only partner: no random number needed
    } else {
        std::uint64_t k = below(rng, static_cast<std::uint64_t>(count - 1));
        for (;; s = w.next[pos][s]) {
            if (s == t) continue;
            if (k-- == 0) break;
        }
    }
    w.flip(t, s, pos);
    return true;
}

int flip_walker::reduce_all() {
    impl& w = *p_;
    const int before = rank();
    w.work.clear();
    for (std::int32_t t = 0; t < static_cast<std::int32_t>(w.f.size()); ++t) w.work.push_back(t);
    w.reduce_work();
    return before - rank();
}

bool flip_walker::plus_transition(std::mt19937_64& rng) {
    impl& w = *p_;
    const auto r = static_cast<std::uint64_t>(w.f.size());
    if (r < 2) return false;
    for (int attempt = 0; attempt < 64; ++attempt) {
        const auto t = static_cast<std::int32_t>(below(rng, r));
        const auto s = static_cast<std::int32_t>(below(rng, r));
        const int pos = static_cast<int>(below(rng, 3)), q1 = (pos + 1) % 3, q2 = (pos + 2) % 3;
        if (s == t || w.f[s][pos] == w.f[t][pos] || w.f[s][q1] == w.f[t][q1] || w.f[s][q2] == w.f[t][q2]) continue;
        // (a,b,c) + (a',b',c') = (a+a',b,c) + (a',b+b',c) + (a',b',c+c'): the a'bc and a'b'c
        // parts cancel in pairs. No two of the three terms share two factors, so they do not
        // merge back (a split of one term into two sharing b and c would at once).
        const std::array<factor_t, 3> ft = w.f[t], fs = w.f[s];
        std::array<factor_t, 3> added{};
        added[pos] = fs[pos], added[q1] = ft[q1] ^ fs[q1], added[q2] = ft[q2];
        w.set_factor(t, pos, ft[pos] ^ fs[pos]);
        w.set_factor(s, q2, fs[q2] ^ ft[q2]);
        const std::int32_t id = w.add_term(added);
        w.work.assign({t, s, id});
        w.reduce_work();
        return true;
    }
    return false;
}

// ---------------------------------------------------------------------------------------
// Search

namespace {

using clock_type = std::chrono::steady_clock;

struct thread_state {
    std::vector<scheme> pool;  // distinct schemes at best_rank
    int best_rank = 0;
    std::uint64_t flips = 0;
    std::uint64_t target_flips = std::numeric_limits<std::uint64_t>::max();  // flips when the target was reached
};

bool same_terms(const scheme& a, const scheme& b) {
    if (a.terms.size() != b.terms.size()) return false;
    auto key = [](const term& t) { return std::array<factor_t, 3>{t.u, t.v, t.w}; };
    std::vector<std::array<factor_t, 3>> x, y;
    for (const term& t : a.terms) x.push_back(key(t));
    for (const term& t : b.terms) y.push_back(key(t));
    std::sort(x.begin(), x.end());
    std::sort(y.begin(), y.end());
    return x == y;
}

}  // namespace

search_result search(const scheme& start, const search_options& opts) {
    require_valid(start, "fmm::search(start)");
    if (opts.threads < 1) throw invalid_argument("fmm::search: threads " + std::to_string(opts.threads) + ", expected >= 1");
    if (opts.path_limit < 1) throw invalid_argument("fmm::search: path_limit 0, expected >= 1");
    if (opts.pool_size < 1)
        throw invalid_argument("fmm::search: pool_size " + std::to_string(opts.pool_size) + ", expected >= 1");
    if (opts.plus_min < 1 || opts.plus_max < opts.plus_min)
        throw invalid_argument("fmm::search: plus_min " + std::to_string(opts.plus_min) + ", plus_max " + std::to_string(opts.plus_max) +
                               ", expected 1 <= plus_min <= plus_max");
    if (opts.plus_band < 1)
        throw invalid_argument("fmm::search: plus_band " + std::to_string(opts.plus_band) + ", expected >= 1");
    if (!(opts.bottom_effort >= 0))
        throw invalid_argument("fmm::search: bottom_effort " + std::to_string(opts.bottom_effort) + ", expected >= 0");
    if (opts.target_rank <= 0 && opts.max_flips == 0 && opts.time_limit <= 0 && !opts.stop)
        throw invalid_argument("fmm::search: no stopping rule: expected a target rank, max_flips, a time limit or a stop flag");

    scheme first = start;
    {
        flip_walker w(start, opts.linear_reductions);
        w.reduce_all();
        first = w.current();
    }
    const auto t0 = clock_type::now();
    const int T = opts.threads;
    std::vector<thread_state> states(T);
    std::atomic<std::uint64_t> winner_flips{std::numeric_limits<std::uint64_t>::max()};
    std::atomic<std::uint64_t> total_flips{0};
    std::atomic<int> global_best{first.rank()};
    std::atomic<bool> timed_out{false}, stopped{false};
    // [r]: runs, over all threads, whose lowest rank was r (read by progress reports).
    std::vector<std::atomic<std::uint64_t>> run_lowest(static_cast<std::size_t>(first.rank()) + 1);
    auto end_run = [&](int lowest) { ++run_lowest[static_cast<std::size_t>(lowest)]; };
    auto runs_so_far = [&] {
        std::vector<std::uint64_t> out;
        for (const auto& n : run_lowest) out.push_back(n.load());
        return out;
    };
    std::mutex report_mutex;
    double last_report = 0;

    auto elapsed = [&] { return std::chrono::duration<double>(clock_type::now() - t0).count(); };
    auto report = [&](bool improved) {
        if (!opts.progress) return;
        std::lock_guard lock(report_mutex);
        const double sec = elapsed();
        if (!improved && sec - last_report < opts.progress_interval) return;
        last_report = sec;
        search_progress pr;
        pr.best_rank = global_best.load();
        pr.start_rank = first.rank();
        pr.seconds = sec;
        pr.flips = total_flips.load();
        pr.flips_per_second = sec > 0 ? static_cast<double>(pr.flips) / sec : 0;
        pr.improved = improved;
        pr.run_lowest = runs_so_far();
        opts.progress(pr);
    };

    auto run = [&](int tid) {
        thread_state& st = states[tid];
        std::mt19937_64 rng(opts.seed + static_cast<std::uint64_t>(tid));
        st.pool = {first};
        st.best_rank = first.rank();
        int failed_walks = 0;
        std::uint64_t unreported = 0;
        auto reached = [&] { return opts.target_rank > 0 && st.best_rank <= opts.target_rank; };
        // Checked every 1024 flips: the stop flag, the time, and the flip bounds.
        auto must_stop = [&] {
            if (st.flips >= winner_flips.load(std::memory_order_relaxed)) return true;
            if (opts.max_flips && st.flips >= opts.max_flips) return true;
            if (opts.stop && opts.stop()) {
                stopped = true;
                return true;
            }
            total_flips += unreported;
            unreported = 0;
            if (opts.time_limit > 0 && elapsed() >= opts.time_limit) {
                timed_out = true;
                return true;
            }
            report(false);
            return false;
        };
        if (reached()) {
            st.target_flips = 0;
            winner_flips = 0;
            return;
        }
        auto keep = [&](std::vector<scheme>& pool, scheme s) {
            if (std::any_of(pool.begin(), pool.end(), [&](const scheme& q) { return same_terms(q, s); })) return;
            if (static_cast<int>(pool.size()) < opts.pool_size) pool.push_back(std::move(s));
            else pool[below(rng, pool.size())] = std::move(s);
        };
        // A lower rank than the thread's best: keep it, tell the others; true on the target.
        auto improve = [&](const flip_walker& w) {
            st.best_rank = w.rank();
            st.pool = {w.current()};
            int g = global_best.load();
            while (st.best_rank < g && !global_best.compare_exchange_weak(g, st.best_rank)) {
            }
            const bool new_global = st.best_rank < g;  // else another thread got there first
            const bool done = reached();
            if (done) {
                st.target_flips = st.flips;
                std::uint64_t cur = winner_flips.load();
                while (st.flips < cur && !winner_flips.compare_exchange_weak(cur, st.flips)) {
                }
            }
            total_flips += unreported;
            unreported = 0;
            report(new_global);
            return done;
        };
        if (opts.strategy == search_strategy::hover) {
            // One walk per run, never ending at a plateau: a plus-transition lifts it after a
            // random stretch without a reduction (random so that walks do not fall into a
            // rhythm), within plus_band of the run's lowest rank, so it wanders over the ranks
            // just above its lowest and comes back down elsewhere. A run that stalls for
            // reset_after flips gives way to one from another of the thread's best schemes.
            auto plus_period = [&] { return opts.plus_min + below(rng, opts.plus_max - opts.plus_min + 1); };
            for (;;) {
                // A new run starts from one of the thread's best schemes (the start scheme first).
                flip_walker w(st.pool[below(rng, st.pool.size())], opts.linear_reductions);
                int run_lowest_rank = w.rank();
                std::uint64_t since_drop = 0, since_lowest = 0, next_plus = plus_period();
                bool stop_now = false;
                while (!opts.reset_after || since_lowest < opts.reset_after) {
                    const int before = w.rank();
                    if (!w.random_flip(rng) && !w.plus_transition(rng)) {
                        stop_now = true;  // rank <= 1: nowhere to go
                        break;
                    }
                    ++st.flips, ++unreported, ++since_drop, ++since_lowest;
                    if (w.rank() < before) {
                        since_drop = 0;
                        if (w.rank() < run_lowest_rank) run_lowest_rank = w.rank(), since_lowest = 0;
                        if (w.rank() < st.best_rank && improve(w)) {
                            end_run(run_lowest_rank);
                            return;
                        }
                        if (w.rank() == st.best_rank) keep(st.pool, w.current());
                    } else if (since_drop >= next_plus && w.rank() < run_lowest_rank + opts.plus_band) {
                        w.plus_transition(rng);
                        since_drop = 0;
                        next_plus = plus_period();
                    }
                    if ((st.flips & 1023) == 0 && must_stop()) {
                        stop_now = true;
                        break;
                    }
                }
                end_run(run_lowest_rank);
                if (stop_now) break;
            }
            total_flips += unreported;
            return;
        }
        if (opts.strategy == search_strategy::levels) {
            // Pools per rank: walks start from a random member of the pool at the current level
            // and end at their first reduction, whose scheme joins the pool of its rank; the
            // search moves down to a full pool, or to the next non-empty one after restart_walks
            // failed walks in a row. Selection: regions that reduce often fill the pools below,
            // where independent runs follow the first reduction they meet.
            std::vector<std::vector<scheme>> levels(first.rank() + 1);
            int level = first.rank();
            levels[level] = {first};
            auto lowest = [&] {  // the lowest rank with a scheme; pools below `level` fill up
                int r = 0;
                while (levels[r].empty()) ++r;
                return r;
            };
            // Flips when the run started and when it first reached its lowest rank (bottom_effort).
            std::uint64_t run_started = st.flips, lowest_reached = st.flips;
            auto bottom_effort_left = [&] {
                const double spent = static_cast<double>(st.flips - lowest_reached);
                return spent < opts.bottom_effort * static_cast<double>(lowest_reached - run_started);
            };
            for (;;) {
                if (opts.restart_walks && failed_walks >= opts.restart_walks) {
                    failed_walks = 0;
                    int below_level = level - 1;
                    while (below_level >= 0 && levels[below_level].empty()) --below_level;
                    if (below_level >= 0) {
                        level = below_level;  // stuck: go on from the schemes found below
                    } else if (level < first.rank() && !bottom_effort_left()) {
                        end_run(level);  // stuck with nothing below: start over
                        for (auto& l : levels) l.clear();
                        level = first.rank();
                        levels[level] = {first};
                        run_started = lowest_reached = st.flips;
                    }
                }
                auto& pool = levels[level];
                flip_walker w(pool[below(rng, pool.size())], opts.linear_reductions);
                if (failed_walks >= opts.plateau_walks) w.plus_transition(rng);
                bool stop_now = false;
                for (std::uint64_t path = 0; path < opts.path_limit && w.rank() >= level; ++path) {
                    if (!w.random_flip(rng) && !w.plus_transition(rng)) {
                        stop_now = true;  // rank <= 1: nowhere to go
                        break;
                    }
                    ++st.flips, ++unreported;
                    if ((st.flips & 1023) == 0 && must_stop()) {
                        stop_now = true;
                        break;
                    }
                }
                if (w.rank() < st.best_rank && improve(w)) {
                    end_run(w.rank());
                    return;
                }
                if (w.rank() == st.best_rank) keep(st.pool, w.current());
                if (w.rank() < level) {
                    if (w.rank() < lowest()) lowest_reached = st.flips;  // a new lowest rank for this run
                    keep(levels[w.rank()], w.current());
                    failed_walks = 0;
                } else {
                    ++failed_walks;
                }
                for (int r = 0; r < level; ++r)  // down to the lowest full pool
                    if (static_cast<int>(levels[r].size()) >= opts.pool_size) {
                        level = r, failed_walks = 0;
                        break;
                    }
                if (stop_now || must_stop()) break;
            }
            end_run(lowest());
            total_flips += unreported;
            return;
        }
        // The current run: its pool and rank. A run restarts from `first` after restart_walks
        // failed walks in a row; st.pool keeps the best schemes over all runs.
        std::vector<scheme> run_pool = st.pool;
        int run_rank = st.best_rank;
        for (;;) {
            if (opts.restart_walks && failed_walks >= opts.restart_walks) {
                end_run(run_rank);
                run_pool = {first};
                run_rank = first.rank();
                failed_walks = 0;
            }
            flip_walker w(run_pool[below(rng, run_pool.size())], opts.linear_reductions);
            if (failed_walks >= opts.plateau_walks) w.plus_transition(rng);
            std::uint64_t path = 0, since_change = 0;
            int last_rank = w.rank();
            bool stop_now = false;
            while (path < opts.path_limit) {
                // No flip (terms share no factor, as in Strassen): leave by a plus-transition.
                if (!w.random_flip(rng) && !w.plus_transition(rng)) {
                    stop_now = true;  // rank <= 1: nowhere to go
                    break;
                }
                ++st.flips, ++path, ++unreported;
                if (w.rank() != last_rank) {
                    last_rank = w.rank();
                    since_change = 0;
                } else if (opts.plus_after && ++since_change >= opts.plus_after && w.rank() <= run_rank) {
                    w.plus_transition(rng);
                    last_rank = w.rank();
                    since_change = 0;
                }
                if (w.rank() < run_rank) {
                    run_rank = w.rank();
                    run_pool = {w.current()};
                    failed_walks = 0;
                    path = 0;
                    if (run_rank == st.best_rank) keep(st.pool, run_pool.front());
                }
                if (w.rank() < st.best_rank && improve(w)) {
                    end_run(run_rank);
                    return;
                }
                if ((st.flips & 1023) == 0 && must_stop()) {
                    stop_now = true;
                    break;
                }
            }
            if (w.rank() == run_rank) keep(run_pool, w.current());
            if (w.rank() == st.best_rank) keep(st.pool, w.current());
            if (stop_now) break;
            ++failed_walks;
            if (must_stop()) break;
        }
        end_run(run_rank);
        total_flips += unreported;
    };

    if (T == 1) {
        run(0);
    } else {
        std::vector<std::thread> threads;
        for (int t = 0; t < T; ++t) threads.emplace_back(run, t);
        for (auto& th : threads) th.join();
    }

    search_result res;
    res.start_rank = first.rank();
    res.seconds = elapsed();
    res.run_lowest = runs_so_far();
    for (const auto& st : states) res.flips += st.flips;
    res.stopped = stopped;
    res.timed_out = timed_out;
    // The winner: the thread that reached the target in the fewest flips, else the lowest rank;
    // ties go to the lowest thread index, so the choice depends on seeds and flip counts only.
    int win = 0;
    for (int t = 1; t < T; ++t) {
        const auto& a = states[t];
        const auto& b = states[win];
        if (a.target_flips < b.target_flips || (a.target_flips == b.target_flips && a.best_rank < b.best_rank))
            win = t;
    }
    res.reached_target = states[win].target_flips != std::numeric_limits<std::uint64_t>::max();
    res.best = states[win].pool.front();
    for (int k = 0; k < T; ++k) {
        const int t = (win + k) % T;
        if (states[t].best_rank != res.best.rank()) continue;
        for (const scheme& s : states[t].pool)
            if (std::none_of(res.best_pool.begin(), res.best_pool.end(), [&](const scheme& q) { return same_terms(q, s); }))
                res.best_pool.push_back(s);
    }
    require_valid(res.best, "fmm::search(result)");
    return res;
}

}  // namespace facto::fmm
