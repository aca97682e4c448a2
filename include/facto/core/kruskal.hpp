// facto/core/kruskal.hpp: the CP model, sum_r weights[r] * a_r^(0) o a_r^(1) o ... .
#pragma once
#include <span>
#include <vector>

#include "facto/core/matrix.hpp"
#include "facto/core/tensor.hpp"
#include "facto/core/types.hpp"

namespace facto {

/// A Kruskal (CP) tensor: factor n is dim(n) x rank; weights has rank entries.
template <class T>
struct basic_kruskal_tensor {
    using value_type = T;

    std::vector<T> weights;
    std::vector<basic_matrix<T>> factors;

    int order() const noexcept { return static_cast<int>(factors.size()); }
    index_t rank() const noexcept { return static_cast<index_t>(weights.size()); }
    shape_t shape() const;

    /// Throws facto::invalid_argument if factors disagree in rank with weights.
    void validate(const char* who) const;
    /// Scales every factor column to unit 2-norm, moving the scale into weights.
    void normalize();
    /// Sorts components by decreasing |weight| (weights made positive by flipping a factor's sign).
    void arrange();
    /// Dense reconstruction (size = product of dims: for small tensors and tests).
    basic_tensor<T> full() const;
    /// One entry of the model without forming the tensor.
    T operator()(std::span<const index_t> coord) const;
};

using kruskal_tensor = basic_kruskal_tensor<double>;
using kruskal_tensor_f = basic_kruskal_tensor<float>;

/// Factor match score (Tensor Toolbox's "score" with weight penalty): components matched
/// by permutation, each scored by (1 - |l1-l2|/max(l1,l2)) * prod_n |cos|; returns the mean
/// over the rank of `truth`, in [0, 1]. Ranks may differ (extra components of `model` are
/// ignored). The matching maximizes the total score exactly (Hungarian algorithm) up to rank
/// 300, and is greedy (best remaining pair first) beyond.
template <class T>
double factor_match_score(const basic_kruskal_tensor<T>& model, const basic_kruskal_tensor<T>& truth,
                          bool weight_penalty = true);

}  // namespace facto
