#include "tile_flags.hpp"

#include <algorithm>
#include <string>

#include "rvae/tiled.hpp"

namespace rvae::cli {

const std::set<std::string> kTileValueOptions = {"tile", "tile-overlap"};

const char* const kTileUsage =
    "Images above the endpoint's cap (2048 pixels a side for the public presets) are sent as\n"
    "overlapping tiles at once and joined without seams: --tile auto (default), off (one\n"
    "request, which the service refuses above its cap), or SIZE (tiles of at most SIZE pixels,\n"
    "a multiple of 8); --tile-overlap N sets the overlap in latent pixels (default 16). The tiles\n"
    "of one input go out up to 16 at once (--jobs at once if that is larger).\n";

void apply_tile_flags(const Args& args, TilingOptions& tiling) {
  if (std::optional<std::string> tile = args.get("tile")) {
    if (*tile == "auto") {
      tiling.mode = TileMode::kAuto;
    } else if (*tile == "off") {
      tiling.mode = TileMode::kOff;
    } else {
      std::optional<int> size;
      try {
        size = args.get_int("tile", 8, 1 << 16);
      } catch (const UsageError&) {
        throw UsageError{"--tile must be auto, off or a tile size in pixels, got '" + *tile + "'"};
      }
      tiling.mode = TileMode::kOn;
      tiling.tile_size = *size;
    }
  }
  if (std::optional<int> overlap = args.get_int("tile-overlap", 0, 4096)) {
    tiling.overlap = *overlap;
  }
}

const std::set<std::string> kChunkValueOptions = {"frames-per-request"};

const char* const kChunkUsage =
    "Long videos are decoded in temporal chunks sent at once (diffusers' HunyuanVideo scheme:\n"
    "chunks of 16 frames at a stride of 12, blended over 4, colour-matched to a small decode of\n"
    "the whole clip): --frames-per-request auto (default: when the reply would exceed the\n"
    "preset's reply budget), off, or N (chunks of N frames, snapped to a multiple of 4; each\n"
    "request returns N + 1). Not with MP4 output (-o out.mp4): write frames with -o frames/.\n"
    "Refused for models whose decoder carries state across frames (wan2.1).\n";

void apply_chunk_flags(const Args& args, DecodeOptions& options, std::ostream& notes) {
  const std::optional<std::string> value = args.get("frames-per-request");
  if (!value) return;
  if (*value == "auto") {
    options.tiling.chunk_mode = ChunkMode::kAuto;
    return;
  }
  if (*value == "off") {
    options.tiling.chunk_mode = ChunkMode::kOff;
    return;
  }
  std::optional<int> frames;
  try {
    frames = args.get_int("frames-per-request", 1, 1 << 16);
  } catch (const UsageError&) {
    throw UsageError{"--frames-per-request must be auto, off or a number of frames, got '" +
                     *value + "'"};
  }
  if (options.output_type == OutputType::kMp4) {
    throw UsageError{
        "--frames-per-request cannot make an MP4: the chunks would need a video encoder here; "
        "write the frames with -o frames/ (or --output-type uint8) and encode them yourself"};
  }
  options.tiling.chunk_mode = ChunkMode::kOn;
  options.tiling.frames_per_request = *frames;
  const int snapped = snap_frames_per_request(*frames, options.temporal_compression);
  if (snapped != *frames) {
    notes << "note: --frames-per-request " << *frames << " snapped to " << snapped
          << " (chunks are a multiple of " << options.temporal_compression
          << " frames, at least two; each request returns " << snapped + 1 << " frames)\n";
  }
}

std::size_t requests_in_flight(int jobs, const TilingOptions& tiling) {
  return std::max(static_cast<std::size_t>(jobs), tiling.max_in_flight);
}

}  // namespace rvae::cli
