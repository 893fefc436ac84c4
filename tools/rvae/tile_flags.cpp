#include "tile_flags.hpp"

#include <algorithm>

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

std::size_t requests_in_flight(int jobs, const TilingOptions& tiling) {
  return std::max(static_cast<std::size_t>(jobs), tiling.max_in_flight);
}

}  // namespace rvae::cli
