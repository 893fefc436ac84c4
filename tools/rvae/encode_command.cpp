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
  const std::vector<std::string> inputs =
      expand_inputs(args.positionals(), {".png", ".jpg", ".jpeg"});
  struct stat info {};
  const bool many = inputs.size() > 1 ||
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
  const int jobs = args.get_int("jobs", 1, 1024).value_or(4);

  // Unreadable images fail alone; the others still go out.
  std::vector<std::optional<Error>> read_errors(inputs.size());
  std::vector<Image> images;
  std::vector<std::size_t> sent_index;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    Result<Image> image = read_image(inputs[i]);
    if (!image) {
      if (!many) throw std::move(image).error();
      read_errors[i] = std::move(image).error();
      continue;
    }
    images.push_back(std::move(image).value());
    sent_index.push_back(i);
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

  std::size_t failures = 0;
  for (std::size_t k = 0; k < results.size(); ++k) {
    const std::string& input = inputs[sent_index[k]];
    if (!results[k]) {
      if (!many) throw std::move(results[k]).error();
      std::cerr << "rvae encode: " << input << ": " << results[k].error().what() << "\n";
      ++failures;
      continue;
    }
    const std::string target =
        many ? *output + (output->back() == '/' ? "" : "/") + stem_of(input) + ".safetensors"
             : *output;
    try {
      write_tensor(target, results[k]->latents, "latents");
    } catch (const Error& error) {
      if (!many) throw;
      std::cerr << "rvae encode: " << input << ": " << error.what() << "\n";
      ++failures;
      continue;
    }
    if (args.has("verbose")) std::cout << timing_line(input, results[k]->timings) << "\n";
    std::cout << "wrote " << target << " " << shape_to_string(results[k]->latents.shape()) << " "
              << dtype_name(results[k]->latents.dtype()) << "\n";
  }
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!read_errors[i]) continue;
    std::cerr << "rvae encode: " << inputs[i] << ": " << read_errors[i]->what() << "\n";
    ++failures;
  }
  if (failures > 0) {
    std::cerr << "rvae encode: " << failures << " of " << inputs.size() << " inputs failed\n";
    return 1;
  }
  return 0;
}

}  // namespace rvae::cli
