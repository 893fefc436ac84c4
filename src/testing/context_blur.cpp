// PROTOCOL.md §7 steps 1 and 2 (and §7.1's clip-wide form), kept apart from the §6 tables so both
// the decode and the encode handler use one implementation.
#include "testing/context_blur.hpp"

#include <cstddef>
#include <vector>

namespace rvae::reference {
namespace {

constexpr double kKernel[5] = {1.0 / 16, 4.0 / 16, 6.0 / 16, 4.0 / 16, 1.0 / 16};

// One pass of the 5-tap kernel over `count` samples `stride` apart, clamping indices to the edge.
// `line` is scratch holding the input copy.
void blur_line(double* data, std::size_t count, std::size_t stride, std::vector<double>& line) {
  line.resize(count);
  for (std::size_t i = 0; i < count; ++i)
    line[i] = data[i * stride];
  const auto last = static_cast<std::ptrdiff_t>(count) - 1;
  for (std::size_t i = 0; i < count; ++i) {
    double sum = 0.0;
    for (std::ptrdiff_t k = -2; k <= 2; ++k) {
      std::ptrdiff_t j = static_cast<std::ptrdiff_t>(i) + k;
      j = j < 0 ? 0 : (j > last ? last : j);
      sum += kKernel[k + 2] * line[static_cast<std::size_t>(j)];
    }
    data[i * stride] = sum;
  }
}

void blur_plane(double* plane, std::size_t height, std::size_t width, std::vector<double>& line) {
  for (std::size_t x = 0; x < width; ++x)
    blur_line(plane + x, height, width, line);  // along h
  for (std::size_t y = 0; y < height; ++y)
    blur_line(plane + y * width, width, 1, line);  // along w
}

}  // namespace

void apply_spatial_context(double* x, std::size_t channels, std::size_t height, std::size_t width) {
  const std::size_t plane_size = height * width;
  std::vector<double> line;
  for (std::size_t c = 0; c < channels; ++c) {
    double* plane = x + c * plane_size;
    double mean = 0.0;
    for (std::size_t i = 0; i < plane_size; ++i)
      mean += plane[i];
    mean /= static_cast<double>(plane_size);
    blur_plane(plane, height, width, line);
    blur_plane(plane, height, width, line);
    for (std::size_t i = 0; i < plane_size; ++i)
      plane[i] -= mean;
  }
}

void apply_temporal_context(double* x, std::size_t frames, std::size_t channels, std::size_t height,
                            std::size_t width) {
  const std::size_t plane_size = height * width;
  const std::size_t frame_size = channels * plane_size;
  // The means first: they are of x itself, before any mix or blur.
  std::vector<double> means(channels, 0.0);
  for (std::size_t t = 0; t < frames; ++t) {
    for (std::size_t c = 0; c < channels; ++c) {
      const double* plane = x + t * frame_size + c * plane_size;
      for (std::size_t i = 0; i < plane_size; ++i)
        means[c] += plane[i];
    }
  }
  for (double& mean : means)
    mean /= static_cast<double>(frames * plane_size);
  // Causal: later frames first, so each still reads its unmixed predecessor; frame 0 has no past.
  for (std::size_t t = frames; t-- > 1;) {
    double* now = x + t * frame_size;
    const double* before = now - frame_size;
    for (std::size_t i = 0; i < frame_size; ++i)
      now[i] = (3.0 * now[i] + before[i]) / 4.0;
  }
  std::vector<double> line;
  for (std::size_t t = 0; t < frames; ++t) {
    for (std::size_t c = 0; c < channels; ++c) {
      double* plane = x + t * frame_size + c * plane_size;
      blur_plane(plane, height, width, line);
      blur_plane(plane, height, width, line);
      for (std::size_t i = 0; i < plane_size; ++i)
        plane[i] -= means[c];
    }
  }
}

}  // namespace rvae::reference
