// rvae decode: latents file in, image / tensor / frames / MP4 out.
#include <sys/stat.h>

#include <cstdio>
#include <iostream>

#include "batch_io.hpp"
#include "commands.hpp"
#include "common.hpp"

namespace rvae::cli {
namespace {

const char* const kUsage =
    "usage: rvae decode [--model sd15|sdxl|flux|hunyuan-video] [--endpoint URL]\n"
    "                   [--output-type image|tensor|uint8|mp4] [--format png|jpg]\n"
    "                   [--height H --width W] [--scaling-factor F] [--shift-factor F]\n"
    "                   [--no-scaling] [--name TENSOR] [--timeout SECONDS] [--attempts N] "
    "[--presets FILE]\n"
    "                   [--jobs N] [--verbose] LATENT.safetensors|LATENT.npy... -o OUT\n"
    "\n"
    "Decodes latents at a remote VAE endpoint. OUT is .png/.jpg (image), .safetensors/.npy\n"
    "(float tensor), .mp4 (video models), or a directory ending in '/' (one PNG per image or\n"
    "frame). Several inputs (or a directory of them) are decoded --jobs at a time (default 4)\n"
    "into the directory OUT, one file per input named after it, with a progress display;\n"
    "--verbose prints where each request's time went. Without --endpoint, RVAE_ENDPOINT or the\n"
    "model's public endpoint is used; the model's scaling factors are sent unless overridden or\n"
    "--no-scaling is given. HF_TOKEN (or the Hugging Face token file) is sent as a bearer token.\n";

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

// Writes one decode result to `output`: a file (by extension) or a directory ending in '/'.
void write_decoded(const DecodeOutput& result, const std::string& output,
                   const DecodeOptions& options) {
  switch (result.type) {
    case OutputType::kImage: {
      // The server's own encoding is kept when it is what the file name asks for.
      const std::string extension = extension_of(output);
      const bool same_format =
          (extension == ".png") == (options.image_format == ImageFormat::kPng) &&
          (extension == ".png" || extension == ".jpg" || extension == ".jpeg");
      if (same_format) {
        take(write_file(output, result.encoded.data(), result.encoded.size()));
      } else {
        write_images(result.images, output);
      }
      return;
    }
    case OutputType::kUInt8:
      write_images(result.images, output);
      return;
    case OutputType::kFloatTensor:
      write_tensor(output, result.tensor, "images");
      return;
    case OutputType::kMp4:
      take(write_file(output, result.encoded.data(), result.encoded.size()));
      return;
  }
}

// Where one input's result goes when decoding many into a directory.
std::string batch_output_path(const std::string& directory, const std::string& input,
                              const DecodeOptions& options, const DecodeOutput& result) {
  const std::string base = directory + (directory.back() == '/' ? "" : "/") + stem_of(input);
  switch (options.output_type) {
    case OutputType::kImage:
      return base + (options.image_format == ImageFormat::kPng ? ".png" : ".jpg");
    case OutputType::kUInt8:
      return result.images.size() == 1 ? base + ".png" : base + "/";
    case OutputType::kFloatTensor:
      return base + ".safetensors";
    case OutputType::kMp4:
      return base + ".mp4";
  }
  return base;
}

}  // namespace

int decode_command(const std::vector<std::string>& argv) {
  std::set<std::string> value_options = kClientValueOptions;
  value_options.insert({"output", "output-type", "format", "height", "width", "scaling-factor",
                        "shift-factor", "name", "jobs"});
  const Args args(argv, value_options, {"help", "no-scaling", "verbose"});
  if (args.has("help")) {
    std::cout << kUsage;
    return 0;
  }
  if (args.positionals().empty())
    throw UsageError{"give a latents file (or several, or a directory)"};
  const std::optional<std::string> output = args.get("output");
  if (!output) throw UsageError{"missing -o OUT"};

  const PresetRegistry presets = load_presets(args);
  const ModelPreset preset = choose_preset(args, presets, "sdxl");
  DecodeOptions options = preset.decode_options();
  apply_factor_flags(args, options.scaling_factor, options.shift_factor);
  options.height = args.get_int("height", 8, 1 << 16);
  options.width = args.get_int("width", 8, 1 << 16);
  if (options.height.has_value() != options.width.has_value()) {
    throw UsageError{"--height and --width go together"};
  }
  BatchInputs inputs;
  inputs.files = expand_inputs(args.positionals(), {".safetensors", ".npy"});
  inputs.read_errors.resize(inputs.files.size());
  const bool many = inputs.files.size() > 1 || is_directory_target(args.positionals()[0]);
  if (many) {
    if (!is_directory_target(*output) && extension_of(*output).empty()) {
      ::mkdir(output->c_str(), 0755);
    }
    if (!is_directory_target(*output)) {
      throw UsageError{"several inputs need a directory as -o OUT, got '" + *output + "'"};
    }
    options.output_type =
        args.has("output-type") ? output_type_for(args, *output) : OutputType::kImage;
    options.image_format = args.has("format") ? image_format_for(args, "") : ImageFormat::kPng;
  } else {
    options.output_type = output_type_for(args, *output);
    options.image_format = image_format_for(args, *output);
  }
  const std::string endpoint = choose_endpoint(args, preset, /*decode=*/true);
  const int jobs = args.get_int("jobs", 1, 1024).value_or(4);

  // Unreadable inputs fail alone; the others still go out.
  std::vector<Tensor> latents(inputs.files.size());
  std::vector<TensorView> views;
  for (std::size_t i = 0; i < inputs.files.size(); ++i) {
    try {
      latents[i] = read_latents(inputs.files[i], args.get("name").value_or(""));
      views.push_back(latents[i].view());
      inputs.sent.push_back(i);
    } catch (const Error& error) {
      if (!many) throw;
      inputs.read_errors[i] = error;
    }
  }

  ClientOptions client = client_options(args);
  client.max_in_flight = static_cast<std::size_t>(jobs);
  Client decoder(client);
  BatchOptions batch;
  batch.max_in_flight = static_cast<std::size_t>(jobs);
  ProgressDisplay display(stderr, "decode");
  if (many) batch.on_progress = [&](const BatchProgress& progress) { display.update(progress); };
  std::vector<Result<DecodeOutput>> results = decoder.decode_batch(endpoint, views, options, batch);
  if (many) display.finish();

  return finish_batch("decode", many, args.has("verbose"), inputs, results,
                      [&](const std::string& input, const DecodeOutput& result) {
                        const std::string target =
                            many ? batch_output_path(*output, input, options, result) : *output;
                        write_decoded(result, target, options);
                        return "wrote " + target;
                      });
}

}  // namespace rvae::cli
