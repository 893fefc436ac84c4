// Tile planning. Balanced tiles (all the same size, as few as fit) make every request cost the
// same, so concurrent tiles finish together and the wall time is one request's, not the largest.
#include "tiling/tile_plan.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "core/try.hpp"

namespace rvae::detail {
namespace {

Error invalid(const std::string& message) {
  return Error(ErrorCode::kInvalidArgument, message);
}

// Plans one axis of `length` latent pixels with tiles of at most `max_tile` and at least
// `overlap` shared between neighbours.
Result<AxisPlan> plan_axis(int length, int max_tile, int overlap, int align, const char* what,
                           const char* axis) {
  AxisPlan plan;
  if (length <= max_tile) {
    plan.tiles.push_back({0, length});
    return plan;
  }
  const int count = ceil_div(length - overlap, max_tile - overlap);
  int size = ceil_div(length + (count - 1) * overlap, count);
  size = std::min(ceil_div(size, align) * align, max_tile);
  for (int j = 0; j < count; ++j) {
    // Spread the starts evenly from 0 to length - size; aligned down so the packed layout holds.
    const long long ideal = static_cast<long long>(j) * (length - size) / (count - 1);
    int start = static_cast<int>(ideal) / align * align;
    if (j == count - 1) start = length - size;
    plan.tiles.push_back({start, size});
  }
  for (std::size_t j = 1; j < plan.tiles.size(); ++j) {
    const int shared = plan.tiles[j - 1].end() - plan.tiles[j].start;
    const bool enough = shared >= overlap;
    const bool separate = j < 2 || plan.tiles[j - 2].end() <= plan.tiles[j].start;
    if (!enough || !separate) {
      return invalid("cannot tile a " + std::string(what) + " " + axis + " of " +
                     std::to_string(length) + " latent pixels into tiles of at most " +
                     std::to_string(max_tile) + " with an overlap of " + std::to_string(overlap) +
                     ": lower tiling.overlap or raise tiling.tile_size");
    }
  }
  return plan;
}

}  // namespace

Result<TileGrid> plan_tile_grid(int height, int width, const TilingOptions& options, int align,
                                const char* what) {
  const int granule = 8 * align;
  if (options.max_image_side < granule) {
    return invalid("tiling.max_image_side must be at least " + std::to_string(granule) +
                   " pixels, got " + std::to_string(options.max_image_side));
  }
  int tile_pixels =
      options.tile_size == 0 ? options.max_image_side / granule * granule : options.tile_size;
  if (tile_pixels < granule || tile_pixels % granule != 0) {
    return invalid("tiling.tile_size must be a positive multiple of " + std::to_string(granule) +
                   " pixels for this " + what + ", got " + std::to_string(options.tile_size));
  }
  if (tile_pixels > options.max_image_side) {
    return invalid("tiling.tile_size " + std::to_string(tile_pixels) +
                   " exceeds the endpoint's cap of " + std::to_string(options.max_image_side) +
                   " pixels (tiling.max_image_side)");
  }
  const int max_tile = tile_pixels / 8;
  if (options.overlap < 0 || 2 * options.overlap >= max_tile) {
    return invalid("tiling.overlap must be at least 0 and less than half a tile (" +
                   std::to_string(max_tile) + " latent pixels), got " +
                   std::to_string(options.overlap));
  }
  if (height <= 0 || width <= 0) return invalid(std::string("nothing to ") + what);
  TileGrid grid;
  RVAE_ASSIGN_OR_RETURN(grid.rows,
                        plan_axis(height, max_tile, options.overlap, align, what, "height"));
  RVAE_ASSIGN_OR_RETURN(grid.cols,
                        plan_axis(width, max_tile, options.overlap, align, what, "width"));
  return grid;
}

std::vector<float> axis_weights(const AxisPlan& plan, std::size_t j, int scale) {
  const AxisSpan tile = plan.tiles[j];
  std::vector<float> weights(static_cast<std::size_t>(tile.size * scale), 1.0f);
  // Fade from `from` (weight 1) to 0 across the middle half of the overlap [begin, end).
  auto fade = [&](int begin, int end, bool fade_in) {
    const double zone_begin = begin * scale, zone_end = end * scale;
    const double quarter = (zone_end - zone_begin) / 4.0;
    const double ramp_begin = zone_begin + quarter, ramp_end = zone_end - quarter;
    for (int p = begin * scale; p < end * scale; ++p) {
      const double centre = p + 0.5;
      double t = (centre - ramp_begin) / (ramp_end - ramp_begin);
      t = std::clamp(t, 0.0, 1.0);
      const double w = fade_in ? t : 1.0 - t;
      weights[static_cast<std::size_t>(p - tile.start * scale)] *= static_cast<float>(w);
    }
  };
  if (j > 0) fade(tile.start, plan.tiles[j - 1].end(), true);
  if (j + 1 < plan.tiles.size()) fade(plan.tiles[j + 1].start, tile.end(), false);
  return weights;
}

AxisSpan axis_interior(const AxisPlan& plan, std::size_t j, int scale) {
  const AxisSpan tile = plan.tiles[j];
  // The same margin the weights leave out: a quarter of each overlap at a cut edge.
  int begin = tile.start * scale;
  int end = tile.end() * scale;
  if (j > 0) begin += (plan.tiles[j - 1].end() - tile.start) * scale / 4;
  if (j + 1 < plan.tiles.size()) end -= (tile.end() - plan.tiles[j + 1].start) * scale / 4;
  if (end <= begin) {
    begin = tile.start * scale;
    end = tile.end() * scale;
  }
  return {begin, end - begin};
}

}  // namespace rvae::detail
