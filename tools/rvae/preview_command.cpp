// rvae preview: an instant approximate image of latents, computed here with the model's latent
// preview factors (no network): what to show while the real decode runs.
#include <iostream>

#include "batch_io.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "output_files.hpp"
#include "rvae/preview.hpp"

namespace rvae::cli {

namespace {

const char* const kUsage =
    "usage: rvae preview [--model sd15|sdxl|flux|hunyuan-video|wan2.1|qwen-image]\n"
    "                    [--scale N] [--frame N] [--height H --width W] [--name TENSOR]\n"
    "                    [--presets FILE] LATENT.safetensors|LATENT.npy|- -o OUT.png|OUT.jpg|-\n"
    "\n"
    "Maps each latent pixel (as a pipeline holds it: scaled, or normalised per channel for\n"
    "wan2.1 and qwen-image) to a colour with the model's latent-to-RGB factors (the tables of\n"
    "docs/PROTOCOL.md sections 6 and 9) and draws it as an N x N block (--scale, default 8:\n"
    "the image's real size). Local and instant; a rough likeness of what decode would return.\n"
    "--frame picks the latent frame of video latents; packed latents (flux, qwen-image) need\n"
    "--height and --width. '-o -' writes a PNG to standard output.\n";

}  // namespace

int preview_command(const std::vector<std::string>& argv) {
  const Args args(argv, {"model", "scale", "frame", "height", "width", "name", "presets", "output"},
                  {"help"});
  if (args.has("help")) {
    std::cout << kUsage;
    return 0;
  }
  if (args.positionals().size() != 1) throw UsageError{"give one latents file (or -)"};
  const std::optional<std::string> output = args.get("output");
  if (!output) throw UsageError{"missing -o OUT"};
  const std::string extension = extension_of(*output);
  if (*output != "-" && extension != ".png" && extension != ".jpg" && extension != ".jpeg") {
    throw UsageError{"preview output must be .png, .jpg or -: " + *output};
  }
  const PresetRegistry presets = load_presets(args);
  const ModelPreset preset = choose_preset(args, presets, "sdxl");
  const std::optional<LatentRgbFactors> factors = latent_rgb_factors(preset.name);
  if (!factors) {
    throw UsageError{"no preview factors for model '" + preset.name +
                     "' (known: sd15, sdxl, flux, hunyuan-video, wan2.1, qwen-image)"};
  }
  PreviewOptions options;
  options.upscale = args.get_int("scale", 1, 64).value_or(8);
  options.frame = args.get_int("frame", 0, 1 << 20).value_or(0);
  options.height = args.get_int("height", 16, 1 << 16);
  options.width = args.get_int("width", 16, 1 << 16);
  if (options.height.has_value() != options.width.has_value()) {
    throw UsageError{"--height and --width go together"};
  }
  const std::string input = args.positionals()[0];
  if (input != "-") (void)expand_inputs({input}, {".safetensors", ".npy"});
  const Tensor latents = read_latents(input, args.get("name").value_or(""));
  if (latents.shape().size() == 3 && !options.height) {
    throw Error(ErrorCode::kInvalidArgument,
                "packed latents " + shape_to_string(latents.shape()) +
                    " do not say the image size; give it with --height H --width W");
  }
  const Image image = take(preview_latents(latents.view(), *factors, options));
  if (*output == "-") {
    const Bytes png = take(encode_png(image));
    write_stdout(png.data(), png.size());
    return 0;
  }
  take(write_image(*output, image));
  std::cout << "wrote " << *output << " (" << image.width << "x" << image.height
            << ", approximate)\n";
  return 0;
}

}  // namespace rvae::cli
