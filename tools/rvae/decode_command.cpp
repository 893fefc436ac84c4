// rvae decode: latents file in, image / tensor / frames / MP4 out.
#include <sys/stat.h>

#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "common.hpp"

namespace rvae::cli {
namespace {

const char* const kUsage =
    "usage: rvae decode [--model sd15|sdxl|flux|hunyuan-video] [--endpoint URL]\n"
    "                   [--output-type image|tensor|uint8|mp4] [--format png|jpg]\n"
    "                   [--height H --width W] [--scaling-factor F] [--shift-factor F]\n"
    "                   [--no-scaling] [--name TENSOR] [--timeout SECONDS] [--presets FILE]\n"
    "                   LATENT.safetensors|LATENT.npy -o OUT\n"
    "\n"
    "Decodes latents at a remote VAE endpoint. OUT is .png/.jpg (image), .safetensors/.npy\n"
    "(float tensor), .mp4 (video models), or a directory ending in '/' (one PNG per image or\n"
    "frame). Without --endpoint, RVAE_ENDPOINT or the model's public endpoint is used; the\n"
    "model's scaling factors are sent unless overridden or --no-scaling is given. HF_TOKEN is\n"
    "sent as a bearer token when set.\n";

bool is_directory_target(const std::string& path) {
  struct stat info {};
  return (!path.empty() && path.back() == '/') ||
         (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode));
}

OutputType output_type_for(const Args& args, const std::string& output) {
  if (std::optional<std::string> type = args.get("output-type")) {
    if (*type == "image") return OutputType::kImage;
    if (*type == "tensor") return OutputType::kFloatTensor;
    if (*type == "uint8") return OutputType::kUInt8;
    if (*type == "mp4") return OutputType::kMp4;
    throw UsageError{"--output-type must be image, tensor, uint8 or mp4, got '" + *type + "'"};
  }
  if (is_directory_target(output)) return OutputType::kUInt8;
  const std::string extension = extension_of(output);
  if (extension == ".png" || extension == ".jpg" || extension == ".jpeg") return OutputType::kImage;
  if (extension == ".safetensors" || extension == ".npy") return OutputType::kFloatTensor;
  if (extension == ".mp4") return OutputType::kMp4;
  throw UsageError{"cannot tell the output type from '" + output +
                   "'; use .png, .jpg, .safetensors, .npy, .mp4 or a directory/"};
}

ImageFormat image_format_for(const Args& args, const std::string& output) {
  if (std::optional<std::string> format = args.get("format")) {
    if (*format == "png") return ImageFormat::kPng;
    if (*format == "jpg" || *format == "jpeg") return ImageFormat::kJpeg;
    throw UsageError{"--format must be png or jpg, got '" + *format + "'"};
  }
  return extension_of(output) == ".png" ? ImageFormat::kPng : ImageFormat::kJpeg;
}

void write_images(const std::vector<Image>& images, const std::string& output) {
  if (is_directory_target(output)) {
    ::mkdir(output.c_str(), 0755);
    const std::string directory = output.back() == '/' ? output : output + "/";
    for (std::size_t i = 0; i < images.size(); ++i) {
      char name[32];
      std::snprintf(name, sizeof(name), "frame_%05zu.png", i);
      take(write_image(directory + name, images[i]));
    }
    return;
  }
  if (images.size() != 1) {
    throw UsageError{"the reply holds " + std::to_string(images.size()) +
                     " images; give a directory (ending in '/') as output"};
  }
  take(write_image(output, images[0]));
}

}  // namespace

int decode_command(const std::vector<std::string>& argv) {
  std::set<std::string> value_options = kClientValueOptions;
  value_options.insert({"output", "output-type", "format", "height", "width", "scaling-factor",
                        "shift-factor", "name"});
  const Args args(argv, value_options, {"help", "no-scaling"});
  if (args.has("help")) {
    std::cout << kUsage;
    return 0;
  }
  if (args.positionals().size() != 1) throw UsageError{"give exactly one latents file"};
  const std::optional<std::string> output = args.get("output");
  if (!output) throw UsageError{"missing -o OUT"};

  const PresetRegistry presets = load_presets(args);
  const ModelPreset preset = choose_preset(args, presets, "sdxl");
  DecodeOptions options = preset.decode_options();
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
  options.height = args.get_int("height", 8, 1 << 16);
  options.width = args.get_int("width", 8, 1 << 16);
  if (options.height.has_value() != options.width.has_value()) {
    throw UsageError{"--height and --width go together"};
  }
  options.output_type = output_type_for(args, *output);
  options.image_format = image_format_for(args, *output);
  const std::string endpoint = choose_endpoint(args, preset, /*decode=*/true);

  const Tensor latents = read_latents(args.positionals()[0], args.get("name").value_or(""));
  Client client(client_options(args));
  DecodeOutput result = take(client.decode(endpoint, latents.view(), options));

  switch (result.type) {
    case OutputType::kImage: {
      // The server's own encoding is kept when it is what the file name asks for.
      const std::string extension = extension_of(*output);
      const bool same_format =
          (extension == ".png") == (options.image_format == ImageFormat::kPng) &&
          (extension == ".png" || extension == ".jpg" || extension == ".jpeg");
      if (same_format) {
        take(write_file(*output, result.encoded.data(), result.encoded.size()));
      } else {
        write_images(result.images, *output);
      }
      break;
    }
    case OutputType::kUInt8:
      write_images(result.images, *output);
      break;
    case OutputType::kFloatTensor:
      write_tensor(*output, result.tensor, "images");
      break;
    case OutputType::kMp4:
      take(write_file(*output, result.encoded.data(), result.encoded.size()));
      break;
  }
  std::cout << "wrote " << *output << "\n";
  return 0;
}

}  // namespace rvae::cli
