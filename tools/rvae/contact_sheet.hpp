// Lays images out in a labelled grid, each scaled to one cell height, for a quick visual
// comparison: column titles above, row names on the left, columns aligned across rows.
#pragma once

#include <string>
#include <vector>

#include "rvae/image.hpp"

namespace rvae::cli {

/// Rows of images, each scaled (area average) to `cell_height` pixels high and centred in its
/// column (as wide as the column's widest image), with white 8-pixel gutters. `column_titles`
/// (one per column) go above the first row and `row_names` (one per row) left of each row;
/// either may be empty for no labels. RGB output.
Image make_contact_sheet(const std::vector<std::vector<Image>>& rows, int cell_height,
                         const std::vector<std::string>& column_titles = {},
                         const std::vector<std::string>& row_names = {});

/// `sheets` one above the other, left-aligned on white, as wide as the widest: sheets with
/// their own column titles in one image.
Image stack_sheets(const std::vector<Image>& sheets);

}  // namespace rvae::cli
