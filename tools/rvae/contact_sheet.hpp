// Lays images out in a grid, each scaled to one cell height, for a quick visual comparison.
#pragma once

#include <vector>

#include "rvae/image.hpp"

namespace rvae::cli {

/// Rows of images side by side, each scaled (area average) to `cell_height` pixels high, with a
/// white 8-pixel gutter. RGB output.
Image make_contact_sheet(const std::vector<std::vector<Image>>& rows, int cell_height);

}  // namespace rvae::cli
