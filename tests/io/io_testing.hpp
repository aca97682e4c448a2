// io_testing.hpp: helpers shared by the io tests: a scratch folder, and COO contents as a map.
#pragma once
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "facto/core/sparse.hpp"

namespace facto::testing {

/// A fresh folder under the system temp directory, removed with everything in it.
struct temp_dir {
    std::filesystem::path dir;
    temp_dir() {
        std::string t = (std::filesystem::temp_directory_path() / "facto_test_XXXXXX").string();
        dir = ::mkdtemp(t.data());
    }
    ~temp_dir() { std::filesystem::remove_all(dir); }
    std::string operator/(const std::string& name) const { return (dir / name).string(); }
};

/// Coordinates -> summed values: compares sparse tensors whatever their entry order.
inline std::map<std::vector<index_t>, double> as_map(const coo_tensor& X) {
    std::map<std::vector<index_t>, double> m;
    for (index_t k = 0; k < X.nnz(); ++k) {
        std::vector<index_t> c;
        for (int d = 0; d < X.order(); ++d) c.push_back(X.indices[static_cast<std::size_t>(d)][static_cast<std::size_t>(k)]);
        m[c] += X.values[static_cast<std::size_t>(k)];
    }
    return m;
}

}  // namespace facto::testing
