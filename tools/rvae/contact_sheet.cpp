#include "contact_sheet.hpp"

#include <algorithm>

#include "pixel_offset.hpp"

namespace rvae::cli {
namespace {

constexpr int kGutter = 8;

int scaled_width(const Image& image, int cell_height) {
  return std::max(1, image.width * cell_height / std::max(1, image.height));
}

// Area-average resampling: each target pixel averages the source pixels it covers, so
// downscaled photos do not alias.
void draw_scaled(const Image& source, Image& target, int left, int top, int width, int height) {
  for (int y = 0; y < height; ++y) {
    const int y0 = y * source.height / height;
    const int y1 = std::max(y0 + 1, (y + 1) * source.height / height);
    for (int x = 0; x < width; ++x) {
      const int x0 = x * source.width / width;
      const int x1 = std::max(x0 + 1, (x + 1) * source.width / width);
      for (int c = 0; c < 3; ++c) {
        unsigned sum = 0;
        for (int sy = y0; sy < y1; ++sy) {
          for (int sx = x0; sx < x1; ++sx) {
            sum += source.pixels[pixel_offset(source, sx, sy, c)];
          }
        }
        const unsigned count = static_cast<unsigned>((y1 - y0) * (x1 - x0));
        target.pixels[pixel_offset(target, left + x, top + y, c)] =
            static_cast<std::uint8_t>((sum + count / 2) / count);
      }
    }
  }
}

}  // namespace

Image make_contact_sheet(const std::vector<std::vector<Image>>& rows, int cell_height) {
  int width = 0;
  for (const std::vector<Image>& row : rows) {
    int row_width = kGutter;
    for (const Image& image : row)
      row_width += scaled_width(image, cell_height) + kGutter;
    width = std::max(width, row_width);
  }
  const int height = kGutter + static_cast<int>(rows.size()) * (cell_height + kGutter);
  Image sheet{width, height, 3,
              Bytes(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3, 255)};
  int top = kGutter;
  for (const std::vector<Image>& row : rows) {
    int left = kGutter;
    for (const Image& image : row) {
      const int cell_width = scaled_width(image, cell_height);
      draw_scaled(image, sheet, left, top, cell_width, cell_height);
      left += cell_width + kGutter;
    }
    top += cell_height + kGutter;
  }
  return sheet;
}

}  // namespace rvae::cli
