// Test-only: what operator new has been asked for since the last reset.
#pragma once

#include <cstddef>

namespace rvae::testing_support {

void reset_largest_allocation();
/// The largest single operator-new request since the last reset.
std::size_t largest_allocation();

/// Makes the heap now in use (through operator new) the baseline for peak_heap_growth().
void reset_peak_heap();
/// The highest heap use through operator new since reset_peak_heap(), above the baseline:
/// what a parse held at once, however it spread that over allocations.
std::size_t peak_heap_growth();

}  // namespace rvae::testing_support
