// rvae demo's tiled part: a round trip past the service's 2048 x 2048 cap, through reference
// endpoints in context mode (PROTOCOL.md section 7), where a tile sent alone comes back blurred
// at its cut edges and with its own colour drift, as from a real VAE.
#pragma once

#include <string>
#include <vector>

#include "image_quality.hpp"
#include "rvae/client.hpp"
#include "rvae/image.hpp"

namespace rvae::cli {

/// One way of tiling the decode.
struct TiledRun {
  std::string label;  ///< "naive" or "rvae"
  int decode_requests = 0;
  double decode_ms = 0;
  ImageQuality quality;  ///< Against the same latents decoded whole.
  Image image;
};

struct TiledDemo {
  int side = 0;
  int cap = 0;  ///< The capped endpoint's largest image side: side / 2.
  Image source;
  int encode_requests = 0;  ///< Of the tiled encode (rvae's), colour reference included.
  double encode_ms = 0;
  Image whole;                 ///< The latents decoded whole, by an endpoint without the cap.
  std::vector<TiledRun> runs;  ///< Naive tiling (abutting tiles, no colour treatment), rvae's.
};

/// `photo` scaled up to `side` x `side` (nearest neighbour; a multiple of 16), encoded tiled by
/// rvae through an SDXL endpoint capped at side / 2 pixels (2048 for the default 4096, the
/// service's cap), and decoded there tiled both ways; the same latents decoded whole by an
/// endpoint without the cap are the reference.
TiledDemo run_tiled_demo(const Image& photo, int side);

}  // namespace rvae::cli
