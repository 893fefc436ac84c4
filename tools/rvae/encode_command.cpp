// rvae encode: image(s) in, latents file(s) out.
#include <iostream>

#include "batch_io.hpp"
#include "batch_runner.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "image_fit.hpp"
#include "output_files.hpp"
#include "report.hpp"
#include "rvae/tiled.hpp"
#include "tile_flags.hpp"

namespace rvae::cli {
namespace {

const char* const kUsage =
    "usage: rvae encode [--model sd15|sdxl|flux|wan2.1|qwen-image] [--endpoint URL]\n"
    "                   [--fit crop|resize] [--scaling-factor F] [--shift-factor F] "
    "[--no-scaling]\n"
    "                   [--protocol auto|hf|open-inference] [--input-name N] [--output-name N]\n"
    "                   [--timeout SECONDS] [--attempts N] [--presets FILE] [--token-file PATH]\n"
    "                   [--allow-http-token]\n"
    "                   [-j|--jobs N] [-v|--verbose] [-q|--quiet] [--json]\n"
    "                   [--tile auto|off|SIZE] [--tile-overlap N]\n"
    "                   IMAGE.png|IMAGE.jpg|-... -o OUT.safetensors|OUT.npy|DIR|-\n"
    "\n"
    "Encodes an image to latents at a remote VAE endpoint. Its sides must be multiples of 8:\n"
    "--fit crop takes the centred part that is, --fit resize scales it to the sides rounded\n"
    "down to multiples of 8 with a Lanczos filter (a = 3), as diffusers' image processor does.\n"
    "Without --endpoint, RVAE_ENDPOINT or the model's public endpoint is used; the model's\n"
    "factors are sent unless overridden or --no-scaling is given. The latents are saved as\n"
    "'latents'; '-o -' writes .safetensors to standard output; '-' as the input reads a PNG or\n"
    "JPEG from standard input. Several images (or a directory of them) are encoded --jobs at a\n"
    "time (default 4) into the directory OUT as <name>.safetensors, each written as soon as it\n"
    "arrives, with a progress bar on a terminal. --verbose prints each request's timings,\n"
    "--json one JSON object per input on standard output, --quiet only errors.\n"
    "An endpoint whose path ends in /v2/models/NAME (Triton, KServe, OpenVINO Model Server,\n"
    "Seldon) speaks the Open Inference Protocol (or say --protocol open-inference): the image\n"
    "goes out as float pixels, the model's raw latent comes back and is normalised here, so\n"
    "--model (or --scaling-factor, or --no-scaling) is required; --input-name/--output-name\n"
    "choose the model's tensors when it has several.\n"
    "The token is read from --token-file, else RVAE_TOKEN (sent to any endpoint over https or\n"
    "to this machine; --allow-http-token lets it go in clear to another host), else HF_TOKEN or\n"
    "the Hugging Face token file (sent only to Hugging Face, over https).\n"
    "Exit codes: 0 ok, 1 an input failed, 2 usage error, 130 interrupted (Ctrl-C).\n";

}  // namespace

int encode_command(const std::vector<std::string>& argv) {
  std::set<std::string> value_options = kClientValueOptions;
  value_options.insert({"scaling-factor", "shift-factor", "fit"});
  value_options.insert(kTileValueOptions.begin(), kTileValueOptions.end());
  std::set<std::string> flags = kReportFlags;
  flags.insert("no-scaling");
  flags.insert(kClientFlags.begin(), kClientFlags.end());
  const Args args(argv, value_options, flags);
  if (args.has("help")) {
    std::cout << kUsage << kTileUsage;
    return 0;
  }
  if (args.positionals().empty())
    throw UsageError{"give an image file (or several, or a directory, or - for stdin)"};
  const std::optional<std::string> output = args.get("output");
  if (!output) throw UsageError{"missing -o OUT"};
  const ReportStyle style = report_style(args);
  const FitMode fit = fit_mode(args.get("fit"));
  const std::vector<std::string> inputs =
      expand_inputs(args.positionals(), {".png", ".jpg", ".jpeg"});
  const bool many = inputs.size() > 1 || is_directory_target(args.positionals()[0]);
  check_stdout_use(*output, many, style);
  const std::string extension = extension_of(*output);
  if (many) {
    if (!is_directory_target(*output) && !extension.empty()) {
      throw UsageError{"several inputs need a directory as -o OUT, got '" + *output + "'"};
    }
  } else if (*output != "-" && extension != ".safetensors" && extension != ".npy") {
    throw UsageError{"output must be .safetensors, .npy or -: " + *output};
  }
  std::vector<std::string> targets;
  for (const std::string& input : inputs) {
    targets.push_back(many ? join_path(*output, stem_of(input) + ".safetensors") : *output);
  }
  check_output_collisions(inputs, targets);

  const PresetRegistry presets = load_presets(args);
  const ModelPreset preset = choose_preset(args, presets, "sdxl");
  EncodeOptions options = preset.encode_options();
  apply_factor_flags(args, options.scaling_factor, options.shift_factor, options.latents_mean,
                     options.latents_std);
  apply_tile_flags(args, options.tiling);
  const std::string endpoint_url = choose_endpoint(args, preset, /*decode=*/false);
  const Endpoint endpoint = make_endpoint(args, endpoint_url);
  require_known_normalization(args, endpoint);
  const int jobs = args.get_int("jobs", 1, 1024).value_or(4);
  if (many) make_directories(*output);

  ClientOptions client = client_options(args);
  client.max_in_flight = requests_in_flight(jobs, options.tiling);
  Client encoder(client);
  const Reporter reporter("encode", style, args.has("verbose"), many);
  ProgressDisplay display(stderr, "encode", many && style != ReportStyle::kQuiet);

  const BatchSummary summary = run_batch<EncodeOutput>(
      inputs.size(), static_cast<std::size_t>(jobs),
      [&](std::size_t i, const CancelToken& cancel) {
        // encode_async PNG-encodes the image (or copies it, to tile it) before it returns, so it
        // need not outlive this.
        const Image image = fit_image(read_input_image(inputs[i]), fit);
        EncodeOptions one = options;
        one.control.cancel = cancel;
        return encoder.encode_async(endpoint, image, one);
      },
      [&](std::size_t i, Result<EncodeOutput> result) {
        InputReport report;
        report.input = inputs[i];
        report.model = preset.name;
        report.endpoint = endpoint_url;
        if (!result) {
          report.error = result.error();
          reporter.report(report);
          return false;
        }
        report.timings = result->timings;
        try {
          if (targets[i] == "-") {
            const Bytes bytes = take(serialize_safetensors({{"latents", result->latents.view()}}));
            write_stdout(bytes.data(), bytes.size());
            report.bytes = bytes.size();
          } else {
            write_tensor(targets[i], result->latents, "latents");
            report.bytes = bytes_on_disk(targets[i]);
          }
          report.output = targets[i];
          report.shape = result->latents.shape();
          report.dtype = std::string(dtype_name(result->latents.dtype()));
        } catch (const Error& error) {
          report.error = error;
        }
        reporter.report(report);
        return !report.error.has_value();
      },
      display);
  return reporter.conclude(summary);
}

}  // namespace rvae::cli
