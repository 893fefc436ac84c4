// Where the tiles of a tiled call go: along each axis, as few equal tiles as fit the cap, with at
// least the requested overlap, and the cross-fade weights that join them.
#pragma once

#include <cstddef>
#include <vector>

#include "rvae/error.hpp"
#include "rvae/tiling.hpp"

namespace rvae::detail {

/// a / b rounded up, for positive sides and factors.
inline int ceil_div(int a, int b) noexcept {
  return (a + b - 1) / b;
}

/// One tile along one axis, in latent pixels: [start, start + size).
struct AxisSpan {
  int start = 0;
  int size = 0;
  int end() const noexcept { return start + size; }
};

/// The tiles along one axis, in order. Neighbours overlap; tile j-1 ends before tile j+1 starts,
/// so every position is covered by one tile or by two neighbours.
struct AxisPlan {
  std::vector<AxisSpan> tiles;
  /// The part of the axis whose output tile j writes: [own_begin(j), own_end(j)). Tile j owns the
  /// overlap with tile j+1, so a region can be written once tiles j and j+1 have arrived.
  int own_begin(std::size_t j) const noexcept { return j == 0 ? 0 : tiles[j - 1].end(); }
  int own_end(std::size_t j) const noexcept { return tiles[j].end(); }
};

/// The grid: rows (along h) times columns (along w), row-major.
struct TileGrid {
  AxisPlan rows;
  AxisPlan cols;
  std::size_t count() const noexcept { return rows.tiles.size() * cols.tiles.size(); }
};

/// Plans a grid over a latent of `height` x `width` latent pixels. `align` is the granularity of
/// tile starts and sizes in latent pixels (2 for packed Flux latents, else 1); `what` names the
/// thing tiled in error messages ("decode", "encode"). InvalidArgument for settings that cannot
/// work: a tile size that is not a multiple of 8 * align pixels or exceeds the cap, a negative
/// overlap or one of half a tile or more.
Result<TileGrid> plan_tile_grid(int height, int width, const TilingOptions& options, int align,
                                const char* what);

/// Cross-fade weight of tile j at each of its positions, `scale` samples per latent pixel (8 for
/// decoded pixels, 1 for latents). The weights of all tiles covering a position sum to 1: in an
/// overlap, tile j fades out linearly over the middle half while its neighbour fades in.
std::vector<float> axis_weights(const AxisPlan& plan, std::size_t j, int scale);

/// The part of tile j at `scale` samples per latent pixel, in axis coordinates, that the weights
/// use: its span less a quarter of each overlap at a cut edge (where the tile itself is affected
/// by the cut). The colour match compares this area with the reference.
AxisSpan axis_interior(const AxisPlan& plan, std::size_t j, int scale);

}  // namespace rvae::detail
