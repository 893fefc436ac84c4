// rvae encode: image in, latents file out.
#include <iostream>

#include "commands.hpp"
#include "common.hpp"

namespace rvae::cli {
namespace {

const char* const kUsage =
    "usage: rvae encode [--model sd15|sdxl|flux] [--endpoint URL] [--scaling-factor F]\n"
    "                   [--shift-factor F] [--no-scaling] [--timeout SECONDS] [--presets FILE]\n"
    "                   IMAGE.png|IMAGE.jpg -o OUT.safetensors|OUT.npy\n"
    "\n"
    "Encodes an image (sides multiples of 8) to latents at a remote VAE endpoint. Without\n"
    "--endpoint, RVAE_ENDPOINT or the model's public endpoint is used; the model's factors are\n"
    "sent unless overridden or --no-scaling is given. The latents are saved as 'latents'.\n";

}  // namespace

int encode_command(const std::vector<std::string>& argv) {
  std::set<std::string> value_options = kClientValueOptions;
  value_options.insert({"output", "scaling-factor", "shift-factor"});
  const Args args(argv, value_options, {"help", "no-scaling"});
  if (args.has("help")) {
    std::cout << kUsage;
    return 0;
  }
  if (args.positionals().size() != 1) throw UsageError{"give exactly one image file"};
  const std::optional<std::string> output = args.get("output");
  if (!output) throw UsageError{"missing -o OUT"};
  const std::string extension = extension_of(*output);
  if (extension != ".safetensors" && extension != ".npy") {
    throw UsageError{"output must be .safetensors or .npy: " + *output};
  }

  const PresetRegistry presets = load_presets(args);
  const ModelPreset preset = choose_preset(args, presets, "sdxl");
  EncodeOptions options = preset.encode_options();
  if (args.has("no-scaling")) {
    if (args.has("scaling-factor") || args.has("shift-factor")) {
      throw UsageError{"--no-scaling contradicts --scaling-factor/--shift-factor"};
    }
    options.scaling_factor.reset();
    options.shift_factor.reset();
  }
  if (std::optional<double> factor = args.get_double("scaling-factor")) {
    options.scaling_factor = factor;
  }
  if (std::optional<double> shift = args.get_double("shift-factor")) options.shift_factor = shift;
  const std::string endpoint = choose_endpoint(args, preset, /*decode=*/false);

  const Image image = take(read_image(args.positionals()[0]));
  Client client(client_options(args));
  const Tensor latents = take(client.encode(endpoint, image, options)).latents;
  write_tensor(*output, latents, "latents");
  std::cout << "wrote " << *output << " " << shape_to_string(latents.shape()) << " "
            << dtype_name(latents.dtype()) << "\n";
  return 0;
}

}  // namespace rvae::cli
