// sparse.cpp: COO editing and canonical form, dense <-> sparse, CSF construction and sets.
#include "core/parallel.hpp"
#include "facto/core/sparse.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <numeric>
#include <string>

#include "core/huge_pages.hpp"
#include "core/norm_accumulate.hpp"
#include "core/sort_coords.hpp"

namespace facto {

namespace {

std::string str(index_t v) { return std::to_string(v); }

std::vector<int> identity_order(int order) {
    std::vector<int> o(static_cast<std::size_t>(order));
    std::iota(o.begin(), o.end(), 0);
    return o;
}

void check_mode_order(std::span<const int> mode_order, int order, const char* who) {
    std::vector<char> seen(static_cast<std::size_t>(order), 0);
    bool ok = static_cast<int>(mode_order.size()) == order;
    for (int m : mode_order) {
        if (!ok || m < 0 || m >= order || seen[static_cast<std::size_t>(m)]) {
            ok = false;
            break;
        }
        seen[static_cast<std::size_t>(m)] = 1;
    }
    if (!ok) {
        std::string s;
        for (int m : mode_order) {
            if (!s.empty()) s += ',';
            s += std::to_string(m);
        }
        throw invalid_argument(std::string(who) + ": mode order [" + s + "] is not a permutation of 0.." +
                               std::to_string(order - 1));
    }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// COO

template <class T>
basic_coo_tensor<T>::basic_coo_tensor(shape_t s) : shape(std::move(s)) {
    for (auto d : shape)
        if (d < 0) throw invalid_argument("coo_tensor: negative dimension in shape " + shape_string(shape));
    indices.resize(shape.size());
}

template <class T>
void basic_coo_tensor<T>::push_back(std::span<const index_t> coord, T value) {
    if (coord.size() != shape.size())
        throw invalid_argument("coo_tensor::push_back: coordinate of order " + std::to_string(coord.size()) +
                               " for a tensor of order " + std::to_string(shape.size()));
    for (std::size_t m = 0; m < coord.size(); ++m)
        if (coord[m] < 0 || coord[m] >= shape[m])
            throw out_of_range("coo_tensor::push_back: index " + str(coord[m]) + " in mode " + std::to_string(m) +
                               " outside [0, " + str(shape[m]) + ")");
    if (indices.size() != shape.size()) indices.resize(shape.size());
    for (std::size_t m = 0; m < coord.size(); ++m) indices[m].push_back(coord[m]);
    values.push_back(value);
}

template <class T>
void basic_coo_tensor<T>::reserve(index_t n) {
    if (n < 0) throw invalid_argument("coo_tensor::reserve: negative count " + str(n));
    if (indices.size() != shape.size()) indices.resize(shape.size());
    for (auto& ix : indices) ix.reserve(static_cast<std::size_t>(n));
    values.reserve(static_cast<std::size_t>(n));
}

template <class T>
void basic_coo_tensor<T>::validate(const char* who) const {
    const std::string w(who);
    if (shape.empty()) throw invalid_argument(w + ": a sparse tensor needs at least one mode");
    for (auto d : shape)
        if (d < 0) throw invalid_argument(w + ": negative dimension in shape " + shape_string(shape));
    if (indices.size() != shape.size())
        throw invalid_argument(w + ": " + std::to_string(indices.size()) + " index arrays for a tensor of order " +
                               std::to_string(shape.size()));
    const std::size_t n = values.size();
    for (std::size_t m = 0; m < indices.size(); ++m) {
        if (indices[m].size() != n)
            throw invalid_argument(w + ": index array of mode " + std::to_string(m) + " has " +
                                   std::to_string(indices[m].size()) + " entries but there are " + std::to_string(n) +
                                   " values");
        const index_t d = shape[m];
        for (std::size_t k = 0; k < n; ++k)
            if (indices[m][k] < 0 || indices[m][k] >= d)
                throw out_of_range(w + ": nonzero " + std::to_string(k) + " has index " + str(indices[m][k]) +
                                   " in mode " + std::to_string(m) + ", outside [0, " + str(d) + ")");
    }
}

template <class T>
void basic_coo_tensor<T>::canonicalize(bool keep_zeros) {
    validate("coo_tensor::canonicalize");
    const std::vector<int> modes = identity_order(order());
    auto sorted = detail::sort_entries(indices, values, shape, modes, keep_zeros);
    indices = std::move(sorted.coords);
    values = std::move(sorted.values);
}

template <class T>
bool basic_coo_tensor<T>::is_canonical() const {
    const std::size_t n = values.size();
    if (indices.size() != shape.size()) return false;
    for (const auto& ix : indices)
        if (ix.size() != n) return false;
    for (std::size_t k = 1; k < n; ++k) {
        int c = 0;  // sign of coordinate k-1 compared with k
        for (const auto& ix : indices) {
            if (ix[k - 1] != ix[k]) {
                c = ix[k - 1] < ix[k] ? -1 : 1;
                break;
            }
        }
        if (c >= 0) return false;  // out of order or duplicate
    }
    return true;
}

template <class T>
double norm(const basic_coo_tensor<T>& X) {
    return detail::scaled_norm(X.values.data(), X.nnz());
}

template <class T>
basic_coo_tensor<T> to_coo(basic_tensor_view<const T> X, double threshold) {
    basic_coo_tensor<T> out(X.shape());
    const shape_t& s = X.shape();
    const int N = X.order();
    index_t count = 0;
    for (index_t i = 0; i < X.size(); ++i) count += std::abs(static_cast<double>(X.data()[i])) > threshold;
    out.reserve(count);
    std::vector<index_t> c(static_cast<std::size_t>(N), 0);
    for (index_t i = 0; i < X.size(); ++i) {
        const T v = X.data()[i];
        if (std::abs(static_cast<double>(v)) > threshold) {
            for (int m = 0; m < N; ++m) out.indices[static_cast<std::size_t>(m)].push_back(c[static_cast<std::size_t>(m)]);
            out.values.push_back(v);
        }
        for (int m = N - 1; m >= 0; --m) {  // odometer, last mode fastest
            if (++c[static_cast<std::size_t>(m)] < s[static_cast<std::size_t>(m)]) break;
            c[static_cast<std::size_t>(m)] = 0;
        }
    }
    return out;
}

template <class T>
basic_tensor<T> to_dense(const basic_coo_tensor<T>& X) {
    X.validate("to_dense");
    basic_tensor<T> out(X.shape);
    const shape_t strides = row_major_strides(X.shape);
    for (index_t k = 0; k < X.nnz(); ++k) {
        index_t off = 0;
        for (int m = 0; m < X.order(); ++m)
            off += X.indices[static_cast<std::size_t>(m)][static_cast<std::size_t>(k)] * strides[static_cast<std::size_t>(m)];
        out.data()[off] += X.values[static_cast<std::size_t>(k)];
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// CSF

std::vector<int> csf_mode_order(const shape_t& shape, int root) {
    const int N = static_cast<int>(shape.size());
    if (root < 0 || root >= N)
        throw invalid_argument("csf_mode_order: root mode " + std::to_string(root) + " outside [0, " +
                               std::to_string(N) + ")");
    std::vector<int> order_;
    order_.reserve(static_cast<std::size_t>(N));
    order_.push_back(root);
    for (int m = 0; m < N; ++m)
        if (m != root) order_.push_back(m);
    std::stable_sort(order_.begin() + 1, order_.end(), [&](int a, int b) {
        return shape[static_cast<std::size_t>(a)] < shape[static_cast<std::size_t>(b)];
    });
    return order_;
}

namespace {

// make_csf on a validated tensor and mode order: one stable sort, then O(nnz * order).
template <class T>
basic_csf_tensor<T> build_csf(const basic_coo_tensor<T>& X, std::span<const int> mode_order) {
    const int N = X.order();
    auto sorted = detail::sort_entries(X.indices, X.values, X.shape, mode_order, false);
    const index_t n = static_cast<index_t>(sorted.values.size());

    basic_csf_tensor<T> csf;
    csf.shape = X.shape;
    csf.mode_order.assign(mode_order.begin(), mode_order.end());
    csf.ptr.resize(static_cast<std::size_t>(N - 1));
    csf.ids.resize(static_cast<std::size_t>(N));
    csf.values = std::move(sorted.values);

    // A node starts at level l where the coordinate differs from the previous nonzero at
    // level l or above. first_diff[k]: the first level at which nonzero k differs from k-1.
    const auto& lvl = sorted.coords;
    std::vector<unsigned char> first_diff(static_cast<std::size_t>(n));
#pragma omp parallel for schedule(static) if (detail::worth_parallel(n))
    for (index_t k = 0; k < n; ++k) {
        int d = 0;
        if (k > 0)
            while (d < N - 1 && lvl[static_cast<std::size_t>(d)][static_cast<std::size_t>(k)] ==
                                    lvl[static_cast<std::size_t>(d)][static_cast<std::size_t>(k - 1)])
                ++d;
        first_diff[static_cast<std::size_t>(k)] = static_cast<unsigned char>(d);
    }
    for (int l = 0; l < N - 1; ++l) {
        // Count first, so each level is allocated once.
        index_t nodes = 0;
        for (index_t k = 0; k < n; ++k) nodes += first_diff[static_cast<std::size_t>(k)] <= l;
        auto& ids = csf.ids[static_cast<std::size_t>(l)];
        auto& ptr = csf.ptr[static_cast<std::size_t>(l)];
        detail::reserve_huge(ids, static_cast<std::size_t>(nodes));
        detail::reserve_huge(ptr, static_cast<std::size_t>(nodes) + 1);
        ids.resize(static_cast<std::size_t>(nodes));
        ptr.resize(static_cast<std::size_t>(nodes) + 1);
        // Children of node f at level l are the nodes of level l+1 that start between the
        // start of f and the start of f+1; count level-(l+1) starts as we go.
        index_t f = 0, children = 0;
        const index_t* ix = lvl[static_cast<std::size_t>(l)].data();
        for (index_t k = 0; k < n; ++k) {
            const int d = first_diff[static_cast<std::size_t>(k)];
            if (d <= l) {
                ids[static_cast<std::size_t>(f)] = ix[k];
                ptr[static_cast<std::size_t>(f)] = children;
                ++f;
            }
            if (d <= l + 1) ++children;
        }
        ptr[static_cast<std::size_t>(nodes)] = children;
    }
    csf.ids.back() = std::move(sorted.coords.back());
    return csf;
}

}  // namespace

template <class T>
basic_csf_tensor<T> make_csf(const basic_coo_tensor<T>& X, std::span<const int> mode_order) {
    X.validate("make_csf");
    check_mode_order(mode_order, X.order(), "make_csf");
    return build_csf(X, mode_order);
}

template <class T>
basic_csf_tensor<T> make_csf(const basic_coo_tensor<T>& X, int root) {
    X.validate("make_csf");
    const std::vector<int> mo = csf_mode_order(X.shape, root);
    return build_csf(X, std::span<const int>(mo));
}

template <class T>
basic_coo_tensor<T> to_coo(const basic_csf_tensor<T>& X) {
    const int N = X.order();
    const index_t n = X.nnz();
    basic_coo_tensor<T> out(X.shape);
    if (static_cast<int>(X.ids.size()) != N || static_cast<int>(X.ptr.size()) != N - 1 ||
        static_cast<int>(X.mode_order.size()) != N || X.ids.back().size() != X.values.size())
        throw invalid_argument("to_coo: malformed CSF (level arrays do not match the order " +
                               std::to_string(N) + ")");
    // start[f] = first leaf under node f of the current level, from the leaves upwards.
    std::vector<index_t> start(static_cast<std::size_t>(n)), next;
    std::iota(start.begin(), start.end(), index_t{0});
    for (int l = N - 1; l >= 0; --l) {
        const auto& ids = X.ids[static_cast<std::size_t>(l)];
        auto& col = out.indices[static_cast<std::size_t>(X.mode_order[static_cast<std::size_t>(l)])];
        col.resize(static_cast<std::size_t>(n));
        const index_t nodes = static_cast<index_t>(ids.size());
        for (index_t f = 0; f < nodes; ++f) {
            const index_t b = start[static_cast<std::size_t>(f)];
            const index_t e = f + 1 < nodes ? start[static_cast<std::size_t>(f + 1)] : n;
            std::fill(col.begin() + b, col.begin() + e, ids[static_cast<std::size_t>(f)]);
        }
        if (l == 0) break;
        const auto& ptr = X.ptr[static_cast<std::size_t>(l - 1)];
        next.resize(ptr.size() - 1);
        for (std::size_t f = 0; f + 1 < ptr.size(); ++f)
            next[f] = ptr[f] < nodes ? start[static_cast<std::size_t>(ptr[f])] : n;
        start.swap(next);
    }
    out.values = X.values;
    return out;
}

template <class T>
std::size_t basic_csf_tensor<T>::bytes() const {
    std::size_t b = values.size() * sizeof(T);
    for (const auto& p : ptr) b += p.size() * sizeof(index_t);
    for (const auto& i : ids) b += i.size() * sizeof(index_t);
    return b;
}

template <class T>
std::size_t basic_csf_set<T>::bytes() const {
    std::size_t b = 0;
    for (const auto& c : csfs) b += c.bytes();
    return b;
}

template <class T>
basic_csf_set<T> make_csf_set(const basic_coo_tensor<T>& X, csf_policy policy) {
    X.validate("make_csf_set");
    basic_csf_set<T> set;
    set.shape = X.shape;
    set.policy = policy;
    const int N = X.order();
    if (policy == csf_policy::one) {
        const int root = static_cast<int>(std::min_element(X.shape.begin(), X.shape.end()) - X.shape.begin());
        const std::vector<int> mo = csf_mode_order(X.shape, root);
        set.csfs.push_back(build_csf(X, std::span<const int>(mo)));
    } else {
        set.csfs.resize(static_cast<std::size_t>(N));
        std::vector<std::exception_ptr> errors(static_cast<std::size_t>(N));
        // One tree per thread; exceptions (bad_alloc) cannot leave an OpenMP region.
#pragma omp parallel for schedule(dynamic, 1) if (detail::worth_parallel(X.nnz()))
        for (int m = 0; m < N; ++m) {
            try {
                const std::vector<int> mo = csf_mode_order(X.shape, m);
                set.csfs[static_cast<std::size_t>(m)] = build_csf(X, std::span<const int>(mo));
            } catch (...) {
                errors[static_cast<std::size_t>(m)] = std::current_exception();
            }
        }
        for (auto& e : errors)
            if (e) std::rethrow_exception(e);
    }
    const double nrm = detail::scaled_norm(set.csfs.front().values.data(), set.csfs.front().nnz());
    set.norm_sq = nrm * nrm;
    return set;
}

#define FACTO_INSTANTIATE_SPARSE(T)                                                                   \
    template struct basic_coo_tensor<T>;                                                              \
    template struct basic_csf_tensor<T>;                                                              \
    template struct basic_csf_set<T>;                                                                 \
    template double norm(const basic_coo_tensor<T>&);                                                 \
    template basic_coo_tensor<T> to_coo(basic_tensor_view<const T>, double);                          \
    template basic_tensor<T> to_dense(const basic_coo_tensor<T>&);                                    \
    template basic_csf_tensor<T> make_csf(const basic_coo_tensor<T>&, std::span<const int>);          \
    template basic_csf_tensor<T> make_csf(const basic_coo_tensor<T>&, int);                           \
    template basic_coo_tensor<T> to_coo(const basic_csf_tensor<T>&);                                  \
    template basic_csf_set<T> make_csf_set(const basic_coo_tensor<T>&, csf_policy);

FACTO_INSTANTIATE_SPARSE(double)
FACTO_INSTANTIATE_SPARSE(float)

}  // namespace facto
