// Tiling settings: how a decode or encode larger than the endpoint's cap (2048 x 2048 pixels on
// the public service) is split into overlapping tiles that are sent at once and joined without
// seams. Every Client call form honours them; rvae/tiled.hpp says when a call is tiled and what
// a tiled result holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "rvae/export.h"

namespace rvae {

/// When a call is tiled.
enum class TileMode {
  kAuto,  ///< Tile exactly when the image would exceed TilingOptions::max_image_side.
  kOff,   ///< Never: one request, which the service refuses above its cap.
  kOn,    ///< Always, with tiles of at most TilingOptions::tile_size pixels a side.
};

/// When a video decode is split along time into chunks (temporal chunking).
enum class ChunkMode {
  kAuto,  ///< Chunk exactly when the whole reply would exceed TilingOptions::reply_budget_bytes
          ///< or the video TilingOptions::max_frames.
  kOff,   ///< Never: one request for the whole clip.
  kOn,    ///< Always, with chunks of TilingOptions::frames_per_request frames.
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

  // ---- Temporal chunking of video decodes, diffusers' AutoencoderKLHunyuanVideo scheme: chunks
  // of frames_per_request output frames at a stride of frames_per_request - 4, each sent with one
  // extra latent frame before it (after the first chunk) whose decoded frame is dropped, joined by
  // a linear blend over 4 frames. Chunks go out in parallel (max_in_flight); a chunk too large
  // for max_image_side is itself tiled in space.
  ChunkMode chunk_mode = ChunkMode::kAuto;
  /// Output frames per chunk: snapped down to a multiple of the model's temporal compression
  /// (4; at least 2 of them) by snap_frames_per_request (rvae/tiled.hpp). A request then decodes
  /// frames_per_request / 4 + 1 latent frames, i.e. frames_per_request + 1 output frames. kAuto
  /// lowers it further when that many frames would exceed reply_budget_bytes or max_frames.
  int frames_per_request = 16;
  /// kAuto: the largest reply of one request, in bytes (uint8 frames at 3 bytes a pixel; float
  /// replies counted at the latents' sample size). 0: no budget. ModelPreset::reply_budget_bytes.
  std::uint64_t reply_budget_bytes = 0;
  /// The endpoint's cap on output frames of one request (0: none). kAuto chunks above it, and
  /// the colour reference then lays the clip's frames side by side in a request of that many.
  int max_frames = 0;
  /// The temporal colour reference: one extra request of the whole clip downsampled in space (as
  /// a mosaic of few frames when max_frames asks), and each chunk shifted so that its
  /// per-channel mean matches the reference's over the same frames. Corrects the per-request
  /// GroupNorm statistics that give each chunk its own colour. false gives diffusers' plain scheme
  /// (for comparison).
  bool temporal_colour_reference = true;
  /// True for models whose decoder carries state across frames (Wan 2.1's causal cache): chunks
  /// decoded as independent requests cannot reproduce it, so chunking is refused
  /// (InvalidArgument) rather than silently wrong. ModelPreset::stateful_decoder.
  bool stateful_decoder = false;
};

}  // namespace rvae
