// facto/ops/mttkrp.hpp: matricized tensor times Khatri-Rao product, dense and sparse (CSF).
#pragma once
#include <span>
#include <type_traits>

#include "facto/core/kruskal.hpp"
#include "facto/core/matrix.hpp"
#include "facto/core/sparse.hpp"
#include "facto/core/tensor.hpp"

namespace facto {

/// M = X_(mode) * khatri_rao(factors except `mode`, in mode order): dim(mode) x R.
/// factors[mode] is not read (it may be any size). `out` is resized as needed.
/// Dense: GEMMs on the tensor's natural layout, never forming the unfolding or the full
/// Khatri-Rao product (only partial products of at most max(left, right) rows). Its scratch
/// arrays (the smaller intermediate, L*J*R or J*Rgt*R values) stay allocated per calling
/// thread between calls, so repeated calls do not page-fault.
/// Sparse: walks a CSF, accumulating Khatri-Rao rows once per fiber; OpenMP-parallel over
/// root slices, deterministic for a fixed thread count.
template <class T>
void mttkrp(basic_tensor_view<const T> X, std::span<const basic_matrix<T>> factors, int mode,
            basic_matrix<T>& out);
template <class T>
void mttkrp(const basic_csf_set<T>& X, std::span<const basic_matrix<T>> factors, int mode,
            basic_matrix<T>& out);

/// The same, for a view of non-const data (what view() gives on a non-const tensor).
template <class T>
    requires(!std::is_const_v<T>)
void mttkrp(basic_tensor_view<T> X, std::span<const basic_matrix<T>> factors, int mode, basic_matrix<T>& out) {
    mttkrp(basic_tensor_view<const T>(X), factors, mode, out);
}

/// The naive loop-nest reference (every entry, every column): the oracle of the tests.
template <class T>
void mttkrp_reference(basic_tensor_view<const T> X, std::span<const basic_matrix<T>> factors, int mode,
                      basic_matrix<T>& out);
template <class T>
void mttkrp_reference(const basic_coo_tensor<T>& X, std::span<const basic_matrix<T>> factors, int mode,
                      basic_matrix<T>& out);

/// <X, M> for a Kruskal model M, without forming M.
template <class T>
double inner(basic_tensor_view<const T> X, const basic_kruskal_tensor<T>& M);
template <class T>
double inner(const basic_coo_tensor<T>& X, const basic_kruskal_tensor<T>& M);

/// ||M||^2 = w^T (hadamard of all Gram matrices) w.
template <class T>
double norm_sq(const basic_kruskal_tensor<T>& M);

}  // namespace facto
