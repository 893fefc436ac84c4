// The owned byte buffer every layer passes around.
#pragma once

#include <cstdint>
#include <vector>

#include "rvae/export.h"

namespace rvae {

/// An owned, contiguous byte buffer (file contents, HTTP bodies, tensor storage).
using Bytes = std::vector<std::uint8_t>;

}  // namespace rvae
