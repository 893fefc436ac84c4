#include "contact_sheet.hpp"

#include <algorithm>
#include <array>

#include "pixel_offset.hpp"
#include "sheet_text.hpp"

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

Image make_contact_sheet(const std::vector<std::vector<Image>>& rows, int cell_height,
                         const std::vector<std::string>& column_titles,
                         const std::vector<std::string>& row_names) {
  constexpr int kTextScale = 2;
  constexpr std::array<std::uint8_t, 3> kInk = {32, 32, 32};
  std::vector<int> column_widths;
  for (const std::vector<Image>& row : rows) {
    for (std::size_t j = 0; j < row.size(); ++j) {
      if (column_widths.size() <= j) column_widths.push_back(0);
      column_widths[j] = std::max(column_widths[j], scaled_width(row[j], cell_height));
    }
  }
  for (std::size_t j = 0; j < column_titles.size() && j < column_widths.size(); ++j) {
    column_widths[j] = std::max(column_widths[j], text_width(column_titles[j], kTextScale));
  }
  int label_width = 0;
  for (const std::string& name : row_names)
    label_width = std::max(label_width, text_width(name, kTextScale) + kGutter);
  int title_height = 0;
  for (const std::string& title : column_titles)
    title_height = std::max(title_height, text_height(title, kTextScale) + kGutter);

  int width = kGutter + label_width;
  for (int column : column_widths)
    width += column + kGutter;
  const int height =
      kGutter + title_height + static_cast<int>(rows.size()) * (cell_height + kGutter);
  Image sheet{width, height, 3,
              Bytes(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3, 255)};
  std::vector<int> column_left;
  int left = kGutter + label_width;
  for (std::size_t j = 0; j < column_widths.size(); ++j) {
    column_left.push_back(left);
    if (j < column_titles.size()) {
      const int title_width = text_width(column_titles[j], kTextScale);
      draw_text(sheet, left + (column_widths[j] - title_width) / 2, kGutter, column_titles[j],
                kTextScale, kInk);
    }
    left += column_widths[j] + kGutter;
  }
  int top = kGutter + title_height;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i < row_names.size()) {
      const int name_height = text_height(row_names[i], kTextScale);
      draw_text(sheet, kGutter, top + (cell_height - name_height) / 2, row_names[i], kTextScale,
                kInk);
    }
    for (std::size_t j = 0; j < rows[i].size(); ++j) {
      const int cell_width = scaled_width(rows[i][j], cell_height);
      draw_scaled(rows[i][j], sheet, column_left[j] + (column_widths[j] - cell_width) / 2, top,
                  cell_width, cell_height);
    }
    top += cell_height + kGutter;
  }
  return sheet;
}

Image stack_sheets(const std::vector<Image>& sheets) {
  int width = 0, height = 0;
  for (const Image& sheet : sheets) {
    width = std::max(width, sheet.width);
    height += sheet.height;
  }
  Image stacked{width, height, 3,
                Bytes(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3, 255)};
  int top = 0;
  for (const Image& sheet : sheets) {
    const std::size_t row_bytes = static_cast<std::size_t>(sheet.width) * 3;
    for (int y = 0; y < sheet.height; ++y) {
      const std::uint8_t* source = &sheet.pixels[pixel_offset(sheet, 0, y, 0)];
      std::copy(source, source + row_bytes, &stacked.pixels[pixel_offset(stacked, 0, top + y, 0)]);
    }
    top += sheet.height;
  }
  return stacked;
}

}  // namespace rvae::cli
