// Text on an RGB image, for the contact sheet's labels: stb_easy_font's quads filled as pixel
// rectangles, each font unit drawn `scale` pixels wide.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "rvae/image.hpp"

namespace rvae::cli {

/// Width and height in pixels of `text` drawn at `scale`.
int text_width(const std::string& text, int scale);
int text_height(const std::string& text, int scale);

/// Draws `text` with its top-left corner at (left, top), clipped to the image.
void draw_text(Image& image, int left, int top, const std::string& text, int scale,
               std::array<std::uint8_t, 3> colour);

}  // namespace rvae::cli
