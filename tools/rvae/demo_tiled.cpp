#include "demo_tiled.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include "common.hpp"
#include "pixel_offset.hpp"
#include "rvae/presets.hpp"
#include "rvae/testing/reference_endpoint.hpp"

namespace rvae::cli {
namespace {

// Nearest neighbour: the stand-in maps each 8x8 block to one latent pixel anyway, and it costs
// nothing next to the round trip.
Image upscale_square(const Image& photo, int side) {
  const Image rgb = to_rgb(photo);
  const int square = std::min(rgb.width, rgb.height);
  const int left = (rgb.width - square) / 2, top = (rgb.height - square) / 2;
  Image out{side, side, 3,
            Bytes(static_cast<std::size_t>(side) * static_cast<std::size_t>(side) * 3)};
  for (int y = 0; y < side; ++y) {
    const int sy = top + y * square / side;
    for (int x = 0; x < side; ++x) {
      const std::uint8_t* from = &rgb.pixels[pixel_offset(rgb, left + x * square / side, sy, 0)];
      std::copy(from, from + 3, &out.pixels[pixel_offset(out, x, y, 0)]);
    }
  }
  return out;
}

double milliseconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

TiledDemo run_tiled_demo(const Image& photo, int side) {
  const int cap = side / 2;
  reference::ReferenceEndpointOptions capped_options;
  capped_options.spatial_context = true;
  capped_options.max_image_side = cap;
  // All of a call's requests computed at once, as a scaled service would.
  capped_options.worker_threads = 16;
  reference::ReferenceEndpoint capped(capped_options);
  reference::ReferenceEndpointOptions whole_options = capped_options;
  whole_options.max_image_side = side;
  reference::ReferenceEndpoint uncapped(whole_options);
  take(capped.start());
  take(uncapped.start());
  const PresetRegistry presets = PresetRegistry::builtin();
  const ModelPreset& preset = *presets.find("sdxl");
  Client client;

  TiledDemo demo;
  demo.side = side;
  demo.cap = cap;
  EncodeOptions encode_options = preset.encode_options();
  encode_options.tiling.max_image_side = cap;
  demo.source = upscale_square(photo, side);
  // One tiled encode (rvae's: it matches the whole encode to a fraction of a level), then the
  // decode three ways: the seams and colour jumps a naive tiler leaves are the decoder's.
  auto start = std::chrono::steady_clock::now();
  const EncodeOutput latents =
      take(client.encode(capped.url("/sdxl/encode/"), demo.source, encode_options));
  demo.encode_ms = milliseconds_since(start);
  demo.encode_requests = latents.timings.attempts;
  DecodeOptions decode_options = preset.decode_options();
  decode_options.output_type = OutputType::kUInt8;
  decode_options.tiling.max_image_side = cap;
  {
    DecodeOptions whole = decode_options;
    whole.tiling.mode = TileMode::kOff;
    demo.whole =
        std::move(take(client.decode(uncapped.url("/sdxl/decode/"), latents.latents.view(), whole))
                      .images.at(0));
  }
  for (const char* label : {"naive", "rvae"}) {
    DecodeOptions decode = decode_options;
    if (std::string(label) == "naive") {
      decode.tiling.overlap = 0;
      decode.tiling.colour_reference = false;
    }
    TiledRun run;
    run.label = label;
    start = std::chrono::steady_clock::now();
    DecodeOutput decoded =
        take(client.decode(capped.url("/sdxl/decode/"), latents.latents.view(), decode));
    run.decode_ms = milliseconds_since(start);
    run.decode_requests = decoded.timings.attempts;
    run.image = std::move(decoded.images.at(0));
    run.quality = compare_images(run.image, demo.whole);
    demo.runs.push_back(std::move(run));
  }
  capped.stop();
  uncapped.stop();
  return demo;
}

}  // namespace rvae::cli
