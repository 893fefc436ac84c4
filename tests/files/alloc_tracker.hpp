// Test-only: the largest single operator-new request since the last reset.
#pragma once

#include <cstddef>

namespace rvae::testing {

void reset_largest_allocation();
std::size_t largest_allocation();

}  // namespace rvae::testing
