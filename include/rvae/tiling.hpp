// Tiling settings: how a decode or encode larger than the endpoint's cap (2048 x 2048 pixels on
// the public service) is split into overlapping tiles that are sent at once and joined without
// seams. Every Client call form honours them; rvae/tiled.hpp says when a call is tiled and what
// a tiled result holds.
#pragma once

#include <cstddef>
#include <functional>

#include "rvae/export.h"

namespace RVAE_API rvae {

/// When a call is tiled.
enum class TileMode {
  kAuto,  ///< Tile exactly when the image would exceed TilingOptions::max_image_side.
  kOff,   ///< Never: one request, which the service refuses above its cap.
  kOn,    ///< Always, with tiles of at most TilingOptions::tile_size pixels a side.
};

/// Progress of a tiled call, counted in tiles (the colour reference request included).
struct TileProgress {
  std::size_t total = 0;      ///< Requests of the call.
  std::size_t finished = 0;   ///< Requests answered and merged into the result.
  std::size_t in_flight = 0;  ///< Requests sent and not yet answered.
};

/// Called on the calling thread after each tile is merged; must not block.
using TileProgressCallback = std::function<void(const TileProgress&)>;

/// Settings of tiled decode and encode. Sizes are validated when a call is tiled; bad values
/// give InvalidArgument naming the setting.
struct TilingOptions {
  TileMode mode = TileMode::kAuto;
  /// Largest tile side in pixels (a multiple of 8; 16 for packed Flux latents), at most
  /// max_image_side. 0 means max_image_side. Tiles are then balanced: as few as fit, all of one
  /// size, so each request costs the same.
  int tile_size = 0;
  /// Overlap of neighbouring tiles in latent pixels (8 image pixels each); must be less than
  /// half a tile. Covers the decoder's spatial reach: the tiles are cross-faded over the middle
  /// half of each overlap, so pixels within a quarter of the overlap of a tile's cut edge are
  /// never used. 0 disables blending (abutting tiles).
  int overlap = 16;
  /// The endpoint's cap: the largest image side in pixels it accepts (ModelPreset::max_image_side).
  int max_image_side = 2048;
  /// Sends one extra request: the whole latent (or image) downsampled by an integer factor to fit
  /// the cap, and shifts each tile's colours (each latent channel's, for encode) so that its mean
  /// matches that global reference over the tile's interior. This corrects the per-request
  /// normalisation drift (GroupNorm) that makes tiles decoded alone differ in colour.
  bool colour_reference = true;
  /// Most requests of one tiled call in flight at once (further bounded by
  /// ClientOptions::max_in_flight). Replies wait in memory until their neighbours arrive, so
  /// this, with the number of tiles in a row, bounds memory beyond the output.
  std::size_t max_in_flight = 16;
  /// Optional tile progress.
  TileProgressCallback on_progress;
};

}  // namespace rvae
