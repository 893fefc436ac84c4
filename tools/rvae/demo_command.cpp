// rvae demo: encodes the bundled images with every image model on an in-process reference
// endpoint, decodes them back, and reports sizes, times and the round-trip error; then a tiled
// round trip (demo_tiled) and a chunked video decode (demo_video) against their whole decodes.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "batch_io.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "contact_sheet.hpp"
#include "demo_tiled.hpp"
#include "demo_video.hpp"
#include "output_files.hpp"
#include "paths.hpp"
#include "pixel_offset.hpp"
#include "rvae/image_resize.hpp"
#include "rvae/testing/reference_endpoint.hpp"

namespace rvae::cli {
namespace {

const char* const kUsage =
    "usage: rvae demo [--out DIR] [--images DIR] [--tiled-side N]\n"
    "\n"
    "Starts the reference endpoint in-process, encodes the bundled test images with sd15, sdxl\n"
    "and flux (flux decoded from packed latents), decodes them back and writes each result and\n"
    "contact_sheet.png (rows: images; columns: original | sd15 | sdxl | flux) to DIR\n"
    "(default ./rvae-demo). The table compares each round trip with the image's 8x8 block means,\n"
    "which is what the stand-in VAE reproduces.\n"
    "Then a 4096x4096 SDXL round trip past the 2048-pixel cap, through endpoints in context mode\n"
    "(a tile decoded alone comes back with blurred edges and its own colours, as from a real\n"
    "VAE): encoded tiled, then decoded with naive tiling (abutting tiles, no colour treatment)\n"
    "and with rvae's, each compared with the latents decoded whole; the sheet's fourth row shows\n"
    "both, whole and at full size where naive tiles meet. --tiled-side N sets that round trip's\n"
    "size (a multiple of 16 from 512 to 8192, default 4096); the cap is always half of it.\n"
    "Last, a 49-frame 96x96 hunyuan-video clip (synthesised latents whose colour drifts over\n"
    "time: the model has no encoder) decoded in context mode (a chunk of frames decoded alone\n"
    "comes back with its own colours) whole, then in chunks through an endpoint that caps a\n"
    "reply at 17 frames' bytes: naively (diffusers' scheme) and with rvae's chunking, whose\n"
    "frames are streamed as their blend completes (first frame ms); each is compared with the\n"
    "whole decode, and the sheet's last rows show every 6th frame of the three.\n";

const char* const kDemoImages[] = {"astronaut.png", "coffee.png", "chelsea.png"};
const char* const kDemoModels[] = {"sd15", "sdxl", "flux"};
constexpr int kDefaultTiledSide = 4096;
constexpr int kCellHeight = 192;
constexpr int kVideoFrameStep = 6;

std::string find_images_dir(const Args& args) {
  if (std::optional<std::string> dir = args.get("images")) return *dir;
  for (const char* candidate : {RVAE_DEMO_SOURCE_DIR, RVAE_DEMO_INSTALL_DIR}) {
    if (is_directory(candidate)) return candidate;
  }
  throw Error(ErrorCode::kNotFound, std::string("demo images not found in ") +
                                        RVAE_DEMO_SOURCE_DIR + " or " + RVAE_DEMO_INSTALL_DIR +
                                        "; pass --images DIR");
}

// The largest centred crop whose sides are multiples of 16: the endpoints need multiples of 8,
// and packed Flux latents need an even latent size.
Image crop_to_multiple_of_16(const Image& image) {
  const int width = image.width / 16 * 16;
  const int height = image.height / 16 * 16;
  const int left = (image.width - width) / 2;
  const int top = (image.height - height) / 2;
  Image cropped{width, height, 3,
                Bytes(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3)};
  const Image rgb = to_rgb(image);
  const std::size_t row_bytes = static_cast<std::size_t>(width) * 3;
  for (int y = 0; y < height; ++y) {
    const std::uint8_t* source = &rgb.pixels[pixel_offset(rgb, left, top + y, 0)];
    std::copy(source, source + row_bytes, &cropped.pixels[pixel_offset(cropped, 0, y, 0)]);
  }
  return cropped;
}

struct RoundTripError {
  double mean = 0;  // Levels (0..255), averaged over every pixel and channel.
  double max = 0;
};

// The stand-in VAE maps each 8x8 block to its mean colour, so that is the reference.
RoundTripError compare_with_block_means(const Image& original, const Image& decoded) {
  RoundTripError error;
  if (decoded.width != original.width || decoded.height != original.height) {
    error.mean = error.max = 255;
    return error;
  }
  double total = 0;
  for (int by = 0; by < original.height / 8; ++by) {
    for (int bx = 0; bx < original.width / 8; ++bx) {
      for (int c = 0; c < 3; ++c) {
        double sum = 0;
        for (int y = by * 8; y < by * 8 + 8; ++y) {
          for (int x = bx * 8; x < bx * 8 + 8; ++x) {
            sum += original.pixels[pixel_offset(original, x, y, c)];
          }
        }
        const double mean = sum / 64.0;
        for (int y = by * 8; y < by * 8 + 8; ++y) {
          for (int x = bx * 8; x < bx * 8 + 8; ++x) {
            const double difference =
                std::abs(decoded.pixels[pixel_offset(decoded, x, y, c)] - mean);
            total += difference;
            error.max = std::max(error.max, difference);
          }
        }
      }
    }
  }
  error.mean = total / (static_cast<double>(original.width) * original.height * 3);
  return error;
}

double milliseconds(std::chrono::microseconds duration) {
  return static_cast<double>(duration.count()) / 1000.0;
}

}  // namespace

int demo_command(const std::vector<std::string>& argv) {
  const Args args(argv, {"out", "images", "tiled-side"}, {"help"});
  if (args.has("help")) {
    std::cout << kUsage;
    return 0;
  }
  if (!args.positionals().empty()) throw UsageError{"demo takes no positional arguments"};
  const std::string out = args.get("out").value_or("rvae-demo");
  const int tiled_side = args.get_int("tiled-side", 512, 8192).value_or(kDefaultTiledSide);
  if (tiled_side % 16 != 0) {
    throw UsageError{"--tiled-side must be a multiple of 16, got " + std::to_string(tiled_side)};
  }
  const std::string images_dir = find_images_dir(args);
  make_directories(out);  // With its parents, as decode's -o DIR/ does.

  reference::ReferenceEndpoint endpoint;
  take(endpoint.start());
  std::cout << "reference endpoint on " << endpoint.url("/") << "\n\n";
  const PresetRegistry presets = PresetRegistry::builtin();
  Client client;

  std::printf("%-6s %-14s %-9s %12s %12s %10s %10s %9s %8s\n", "model", "image", "size", "sent B",
              "received B", "encode ms", "decode ms", "mean err", "max err");
  std::vector<std::vector<Image>> sheet_rows;
  for (const char* file : kDemoImages) {
    const Image original = crop_to_multiple_of_16(take(read_image(images_dir + "/" + file)));
    std::vector<Image> row = {original};
    for (const char* model : kDemoModels) {
      const ModelPreset& preset = *presets.find(model);
      const EncodeOutput encoded = take(client.encode(endpoint.url("/" + preset.name + "/encode/"),
                                                      original, preset.encode_options()));
      const Tensor& latents = encoded.latents;

      DecodeOptions options = preset.decode_options();
      options.image_format = ImageFormat::kPng;
      // Flux pipelines hold latents packed; send them that way to exercise the path.
      Tensor packed;
      TensorView view = latents.view();
      if (preset.packed_latents) {
        packed = take(pack_latents(latents.view()));
        view = packed.view();
        options.height = original.height;
        options.width = original.width;
      }
      DecodeOutput decoded =
          take(client.decode(endpoint.url("/" + preset.name + "/decode/"), view, options));

      const RoundTripError error = compare_with_block_means(original, decoded.images.at(0));
      const std::string size =
          std::to_string(original.width) + "x" + std::to_string(original.height);
      std::printf("%-6s %-14s %-9s %12zu %12zu %10.1f %10.1f %9.3f %8.2f\n", model, file,
                  size.c_str(), encoded.timings.bytes_sent + decoded.timings.bytes_sent,
                  encoded.timings.bytes_received + decoded.timings.bytes_received,
                  milliseconds(encoded.timings.total), milliseconds(decoded.timings.total),
                  error.mean, error.max);
      take(write_file(out + "/" + stem_of(file) + "_" + model + ".png", decoded.encoded.data(),
                      decoded.encoded.size()));
      row.push_back(std::move(decoded.images.at(0)));
    }
    sheet_rows.push_back(std::move(row));
  }
  const std::string sheet_path = out + "/contact_sheet.png";
  std::vector<std::string> titles = {"original"};
  titles.insert(titles.end(), std::begin(kDemoModels), std::end(kDemoModels));
  std::vector<std::string> names;
  for (const char* file : kDemoImages)
    names.push_back(stem_of(file));
  const Image sheet = make_contact_sheet(sheet_rows, kCellHeight, titles, names);
  std::cout << "\nsent = PNG (encode) + latents (decode); received = latents + decoded PNG;\n"
            << "times are per request, PNG encoding and reply decoding included.\n"
            << "errors are in 8-bit levels against each image's 8x8 block means.\n";
  endpoint.stop();

  const std::string tiled_photo = kDemoImages[0];
  const TiledDemo tiled =
      run_tiled_demo(take(read_image(images_dir + "/" + tiled_photo)), tiled_side);
  std::printf(
      "\n%dx%d sdxl round trip of %s past the %d cap (context mode): encoded tiled in %d "
      "requests, %.1f ms;\ndecoded tiled two ways, each against the same latents decoded "
      "whole:\n",
      tiled.side, tiled.side, tiled_photo.c_str(), tiled.cap, tiled.encode_requests,
      tiled.encode_ms);
  std::printf("%-8s %9s %10s %14s %8s\n", "tiling", "requests", "decode ms", "PSNR vs whole",
              "max err");
  for (const TiledRun& run : tiled.runs) {
    std::printf("%-8s %9d %10.1f %11.1f dB %8d\n", run.label.c_str(), run.decode_requests,
                run.decode_ms, run.quality.psnr, run.quality.max_levels);
  }
  // Full size where the naive tiles meet (the centre, for 2 x 2 tiles): the seams are plain.
  const int crop = kCellHeight * 2, corner = (tiled.side - crop) / 2;
  std::vector<Image> tiled_row = {tiled.whole};
  for (const TiledRun& run : tiled.runs)
    tiled_row.push_back(run.image);
  for (const TiledRun& run : tiled.runs)
    tiled_row.push_back(take(crop_image(run.image, corner, corner, crop, crop)));
  const Image tiled_sheet = make_contact_sheet({tiled_row}, kCellHeight * 2,
                                               {"whole", "naive", "rvae", "naive 1:1", "rvae 1:1"},
                                               {std::to_string(tiled.side)});
  std::cout << "max err in 8-bit levels; naive = abutting tiles, no colour treatment.\n";

  const VideoDemo video = run_video_demo();
  std::printf(
      "\n%d-frame %dx%d hunyuan-video decode of drifting latents (context mode): whole, then "
      "chunked\nthrough an endpoint capping a reply at %d frames' bytes, each against the whole "
      "decode:\n",
      video.frames, video.width, video.height, video.budget_frames);
  std::printf("%-8s %7s %9s %10s %15s %14s %8s\n", "chunking", "frames", "requests", "decode ms",
              "first frame ms", "PSNR vs whole", "max err");
  for (const VideoRun& run : video.runs) {
    std::printf("%-8s %7zu %9d %10.1f ", run.label.c_str(), run.frames.size(), run.requests,
                run.ms);
    if (run.first_frame_ms > 0) {
      std::printf("%15.1f ", run.first_frame_ms);
    } else {
      std::printf("%15s ", "-");
    }
    if (run.label == "whole") {
      std::printf("%14s %8s\n", "-", "-");
    } else {
      std::printf("%11.1f dB %8d\n", run.quality.psnr, run.quality.max_levels);
    }
  }
  std::vector<std::string> frame_titles;
  for (int frame = 0; frame < video.frames; frame += kVideoFrameStep)
    frame_titles.push_back((frame == 0 ? "frame " : "") + std::to_string(frame));
  std::vector<std::vector<Image>> strip;
  std::vector<std::string> strip_names;
  for (const VideoRun& run : video.runs) {
    std::vector<Image> row;
    for (std::size_t frame = 0; frame < run.frames.size(); frame += kVideoFrameStep)
      row.push_back(run.frames[frame]);
    strip.push_back(std::move(row));
    strip_names.push_back(run.label);
  }
  const Image video_sheet = make_contact_sheet(strip, video.height, frame_titles, strip_names);
  take(write_image(sheet_path, stack_sheets({sheet, tiled_sheet, video_sheet})));
  std::cout << "naive = diffusers' chunks blended over 4 frames, no colour treatment; rvae's "
            << "frames were\nstreamed (first frame ms: from the call's start).\n"
            << "wrote " << sheet_path << " (rows: images; columns: original | sd15 | sdxl | flux;\n"
            << "then " << tiled.side << "x" << tiled.side
            << " whole | naive | rvae | both at full size where naive tiles meet;\n"
            << "then the video's whole | naive | rvae, every " << kVideoFrameStep << "th frame)\n";
  return 0;
}

}  // namespace rvae::cli
