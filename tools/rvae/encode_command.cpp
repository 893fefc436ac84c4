// rvae encode: image in, latents file out.
#include <sys/stat.h>

#include <iostream>

#include "batch_io.hpp"
#include "commands.hpp"
#include "common.hpp"

namespace rvae::cli {
namespace {

const char* const kUsage =
    "usage: rvae encode [--model sd15|sdxl|flux] [--endpoint URL] [--scaling-factor F]\n"
    "                   [--shift-factor F] [--no-scaling] [--timeout SECONDS] [--attempts N] "
    "[--presets FILE]\n"
    "                   [--jobs N] [--verbose] IMAGE.png|IMAGE.jpg... -o OUT.safetensors|OUT.npy\n"
    "\n"
    "Encodes an image (sides multiples of 8) to latents at a remote VAE endpoint. Without\n"
    "--endpoint, RVAE_ENDPOINT or the model's public endpoint is used; the model's factors are\n"
    "sent unless overridden or --no-scaling is given. The latents are saved as 'latents'.\n"
    "Several images (or a directory of them) are encoded --jobs at a time (default 4) into the\n"
    "directory OUT as <name>.safetensors, with a progress display.\n";

}  // namespace

int encode_command(const std::vector<std::string>& argv) {
  std::set<std::string> value_options = kClientValueOptions;
  value_options.insert({"output", "scaling-factor", "shift-factor", "jobs"});
  const Args args(argv, value_options, {"help", "no-scaling", "verbose"});
  if (args.has("help")) {
    std::cout << kUsage;
    return 0;
  }
  if (args.positionals().empty())
    throw UsageError{"give an image file (or several, or a directory)"};
  const std::optional<std::string> output = args.get("output");
  if (!output) throw UsageError{"missing -o OUT"};
  BatchInputs inputs;
  inputs.files = expand_inputs(args.positionals(), {".png", ".jpg", ".jpeg"});
  inputs.read_errors.resize(inputs.files.size());
  struct stat info {};
  const bool many = inputs.files.size() > 1 ||
                    (::stat(args.positionals()[0].c_str(), &info) == 0 && S_ISDIR(info.st_mode));
  const std::string extension = extension_of(*output);
  if (many) {
    if (extension.empty()) ::mkdir(output->c_str(), 0755);
    if (::stat(output->c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
      throw UsageError{"several inputs need a directory as -o OUT, got '" + *output + "'"};
    }
  } else if (extension != ".safetensors" && extension != ".npy") {
    throw UsageError{"output must be .safetensors or .npy: " + *output};
  }

  const PresetRegistry presets = load_presets(args);
  const ModelPreset preset = choose_preset(args, presets, "sdxl");
  EncodeOptions options = preset.encode_options();
  apply_factor_flags(args, options.scaling_factor, options.shift_factor);
  const std::string endpoint = choose_endpoint(args, preset, /*decode=*/false);
  const int jobs = args.get_int("jobs", 1, 1024).value_or(4);

  // Unreadable images fail alone; the others still go out.
  std::vector<Image> images;
  for (std::size_t i = 0; i < inputs.files.size(); ++i) {
    Result<Image> image = read_image(inputs.files[i]);
    if (!image) {
      if (!many) throw std::move(image).error();
      inputs.read_errors[i] = std::move(image).error();
      continue;
    }
    images.push_back(std::move(image).value());
    inputs.sent.push_back(i);
  }

  ClientOptions client = client_options(args);
  client.max_in_flight = static_cast<std::size_t>(jobs);
  Client encoder(client);
  BatchOptions batch;
  batch.max_in_flight = static_cast<std::size_t>(jobs);
  ProgressDisplay display(stderr, "encode");
  if (many) batch.on_progress = [&](const BatchProgress& progress) { display.update(progress); };
  std::vector<Result<EncodeOutput>> results =
      encoder.encode_batch(endpoint, images, options, batch);
  if (many) display.finish();

  return finish_batch("encode", many, args.has("verbose"), inputs, results,
                      [&](const std::string& input, const EncodeOutput& result) {
                        const std::string target = many ? *output +
                                                              (output->back() == '/' ? "" : "/") +
                                                              stem_of(input) + ".safetensors"
                                                        : *output;
                        write_tensor(target, result.latents, "latents");
                        return "wrote " + target + " " + shape_to_string(result.latents.shape()) +
                               " " + std::string(dtype_name(result.latents.dtype()));
                      });
}

}  // namespace rvae::cli
