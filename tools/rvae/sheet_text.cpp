#include "sheet_text.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "pixel_offset.hpp"

#include <stb/stb_easy_font.h>

namespace rvae::cli {
namespace {

// One vertex as stb_easy_font writes it: x, y, z, then RGBA.
struct Vertex {
  float x;
  float y;
  float z;
  unsigned char colour[4];
};
static_assert(sizeof(Vertex) == 16, "stb_easy_font's vertex layout");

}  // namespace

int text_width(const std::string& text, int scale) {
  std::string copy = text;
  return stb_easy_font_width(copy.data()) * scale;
}

int text_height(const std::string& text, int scale) {
  std::string copy = text;
  return stb_easy_font_height(copy.data()) * scale;
}

void draw_text(Image& image, int left, int top, const std::string& text, int scale,
               std::array<std::uint8_t, 3> colour) {
  std::string copy = text;
  // stb's estimate is ~270 bytes a character; twice that leaves room.
  std::vector<Vertex> vertices(copy.size() * 40 + 64);
  const int quads = stb_easy_font_print(0, 0, copy.data(), nullptr, vertices.data(),
                                        static_cast<int>(vertices.size() * sizeof(Vertex)));
  const double factor = scale;
  for (int q = 0; q < quads; ++q) {
    const Vertex* corner = &vertices[static_cast<std::size_t>(q) * 4];
    float x0 = corner[0].x, x1 = corner[0].x, y0 = corner[0].y, y1 = corner[0].y;
    for (int k = 1; k < 4; ++k) {
      x0 = std::min(x0, corner[k].x);
      x1 = std::max(x1, corner[k].x);
      y0 = std::min(y0, corner[k].y);
      y1 = std::max(y1, corner[k].y);
    }
    const int px0 = std::max(0, left + static_cast<int>(std::lround(x0 * factor)));
    const int px1 = std::min(image.width, left + static_cast<int>(std::lround(x1 * factor)));
    const int py0 = std::max(0, top + static_cast<int>(std::lround(y0 * factor)));
    const int py1 = std::min(image.height, top + static_cast<int>(std::lround(y1 * factor)));
    for (int y = py0; y < py1; ++y) {
      for (int x = px0; x < px1; ++x) {
        for (int c = 0; c < 3; ++c)
          image.pixels[pixel_offset(image, x, y, c)] = colour[static_cast<std::size_t>(c)];
      }
    }
  }
}

}  // namespace rvae::cli
