// rvae decode: latents file(s) in, image / tensor / frames / MP4 out.
#include <cstdio>
#include <iostream>

#include "batch_io.hpp"
#include "batch_runner.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "console.hpp"
#include "decode_checks.hpp"
#include "output_files.hpp"
#include "report.hpp"
#include "rvae/tiled.hpp"
#include "streamed_output.hpp"
#include "tile_flags.hpp"

namespace rvae::cli {
namespace {

const char* const kUsage =
    "usage: rvae decode [--model sd15|sdxl|flux|hunyuan-video|wan2.1|qwen-image]\n"
    "                   [--endpoint URL] [--protocol auto|hf|open-inference]\n"
    "                   [--input-name N] [--output-name N] [--allow-http-token]\n"
    "                   [--output-type image|tensor|uint8|mp4] [--format png|jpg]\n"
    "                   [--height H --width W] [--scaling-factor F] [--shift-factor F]\n"
    "                   [--no-scaling] [--name TENSOR] [--timeout SECONDS] [--attempts N]\n"
    "                   [--presets FILE] [--token-file PATH] [-j|--jobs N] [-v|--verbose]\n"
    "                   [-q|--quiet] [--json] [--tile auto|off|SIZE] [--tile-overlap N]\n"
    "                   LATENT.safetensors|LATENT.npy|-... -o OUT\n"
    "\n"
    "Decodes latents at a remote VAE endpoint. OUT is .png/.jpg (image), .safetensors/.npy\n"
    "(float tensor), .mp4 (video models), a directory ending in '/' (one PNG per image or\n"
    "frame), or '-' for standard output (PNG, or --format jpg; .npy for --output-type tensor).\n"
    "'-' as the input reads one .npy or .safetensors from standard input.\n"
    "Replies stream to their files as they arrive: each frame's PNG is written while the next\n"
    "frames arrive, a float tensor or an MP4 goes to its file as received (under a hidden\n"
    "temporary name until complete). After a failure the complete frames stay and the error\n"
    "says which are missing; no partial file is left. '-o -' holds a float tensor whole in\n"
    "memory before writing it (give a file to stream it), as does a float tensor decoded in\n"
    "temporal chunks.\n"
    "Several inputs (or a directory of them) are decoded --jobs at a time (default 4) into the\n"
    "directory OUT, one file per input named after it, each written as soon as it arrives (an\n"
    "interrupted batch keeps what finished), with a progress bar on a terminal (which counts\n"
    "frames written too, also for a single video).\n"
    "--verbose prints where each request's time went; --json prints one JSON object per input on\n"
    "standard output (and nothing else there; frames_written and first_frame_ms, from the\n"
    "reply's first byte to the first frame file, for frames); --quiet prints only errors.\n"
    "Without --endpoint, RVAE_ENDPOINT or the model's public endpoint is used; the model's\n"
    "scaling factors are sent unless overridden or --no-scaling is given.\n"
    "An endpoint whose path ends in /v2/models/NAME (Triton, KServe, OpenVINO Model Server,\n"
    "Seldon) speaks the Open Inference Protocol (or say --protocol open-inference): the latents\n"
    "are de-normalised here and sent raw in the model's datatype, so --model (or\n"
    "--scaling-factor, or --no-scaling) is required; images are encoded here; MP4 output needs\n"
    "the Hugging Face protocol (write frames to a directory/ instead); --input-name and\n"
    "--output-name choose the model's tensors when it has several.\n"
    "The token is read from --token-file, else RVAE_TOKEN (sent to any endpoint over https or\n"
    "to this machine; --allow-http-token lets it go in clear to another host), else HF_TOKEN or\n"
    "the Hugging Face token file (sent only to Hugging Face, over https).\n"
    "Exit codes: 0 ok, 1 an input failed, 2 usage error, 130 interrupted (Ctrl-C).\n";

OutputType output_type_for(const Args& args, const std::string& output) {
  if (std::optional<std::string> type = args.get("output-type")) {
    if (*type == "image") return OutputType::kImage;
    if (*type == "tensor") return OutputType::kFloatTensor;
    if (*type == "uint8") return OutputType::kUInt8;
    if (*type == "mp4") return OutputType::kMp4;
    throw UsageError{"--output-type must be image, tensor, uint8 or mp4, got '" + *type + "'"};
  }
  if (output == "-") return OutputType::kImage;
  if (is_directory_target(output)) return OutputType::kUInt8;
  const std::string extension = extension_of(output);
  if (extension == ".png" || extension == ".jpg" || extension == ".jpeg") return OutputType::kImage;
  if (extension == ".safetensors" || extension == ".npy") return OutputType::kFloatTensor;
  if (extension == ".mp4") return OutputType::kMp4;
  throw UsageError{"cannot tell the output type from '" + output +
                   "'; use .png, .jpg, .safetensors, .npy, .mp4, a directory/ or -"};
}

ImageFormat image_format_for(const Args& args, const std::string& output) {
  if (std::optional<std::string> format = args.get("format")) {
    if (*format == "png") return ImageFormat::kPng;
    if (*format == "jpg" || *format == "jpeg") return ImageFormat::kJpeg;
    throw UsageError{"--format must be png or jpg, got '" + *format + "'"};
  }
  const std::string extension = extension_of(output);
  return extension == ".jpg" || extension == ".jpeg" ? ImageFormat::kJpeg : ImageFormat::kPng;
}

const char* extension_for(const DecodeOptions& options) {
  switch (options.output_type) {
    case OutputType::kImage:
      return options.image_format == ImageFormat::kPng ? ".png" : ".jpg";
    case OutputType::kUInt8:
      return ".png";
    case OutputType::kFloatTensor:
      return ".safetensors";
    case OutputType::kMp4:
      return ".mp4";
  }
  return "";
}

void write_images(const std::vector<Image>& images, const std::string& output) {
  if (is_directory_target(output)) {
    make_directories(output);
    for (std::size_t i = 0; i < images.size(); ++i) {
      char name[32];
      std::snprintf(name, sizeof(name), "frame_%05zu.png", i);
      take(write_image(join_path(output, name), images[i]));
    }
    return;
  }
  if (images.size() != 1) {
    throw Error(ErrorCode::kInvalidArgument,
                "the reply holds " + std::to_string(images.size()) +
                    " images; give a directory (ending in '/') as -o OUT");
  }
  take(write_image(output, images[0]));
}

void write_bytes(const std::string& output, const Bytes& bytes) {
  take(write_file(output, bytes.data(), bytes.size()));
}

void write_decoded_file(const DecodeOutput& result, const std::string& output,
                        const DecodeOptions& options);

// Writes one decode result to `output`: a file (by extension), a directory ending in '/', or
// standard output ("-"). Returns the bytes written.
std::uint64_t write_decoded(const DecodeOutput& result, const std::string& output,
                            const DecodeOptions& options) {
  if (output == "-") {
    Bytes bytes;
    if (result.type == OutputType::kFloatTensor) {
      // .npy has no bfloat16: widened to float32 (exact), as write_tensor does for a file.
      bytes = result.tensor.dtype() == DType::kBFloat16
                  ? take(serialize_npy(take(convert(result.tensor.view(), DType::kFloat32)).view()))
                  : take(serialize_npy(result.tensor.view()));
    } else if (result.type == OutputType::kUInt8) {
      if (result.images.size() != 1) {
        throw Error(ErrorCode::kInvalidArgument,
                    "the reply holds " + std::to_string(result.images.size()) +
                        " images; -o - writes one: give a directory (ending in '/') as -o OUT");
      }
      bytes = take(encode_png(result.images[0]));
    } else {
      bytes = result.encoded;  // The server's own PNG/JPEG (as --format asked) or MP4.
    }
    write_stdout(bytes.data(), bytes.size());
    return bytes.size();
  }
  write_decoded_file(result, output, options);
  return bytes_on_disk(output);
}

void write_decoded_file(const DecodeOutput& result, const std::string& output,
                        const DecodeOptions& options) {
  switch (result.type) {
    case OutputType::kImage: {
      // The server's own encoding is kept when it is what the file name asks for.
      const std::string extension = extension_of(output);
      const bool same_format =
          (extension == ".png") == (options.image_format == ImageFormat::kPng) &&
          (extension == ".png" || extension == ".jpg" || extension == ".jpeg");
      if (same_format) {
        write_bytes(output, result.encoded);
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
      write_bytes(output, result.encoded);
      return;
  }
}

// Fills in what was written: shape and dtype of the pixels, bytes.
void describe_output(const DecodeOutput& result, const std::string& output, std::uint64_t bytes,
                     InputReport& report) {
  report.output = output;
  if (result.type == OutputType::kFloatTensor) {
    report.shape = result.tensor.shape();
    report.dtype = std::string(dtype_name(result.tensor.dtype()));
  } else if (!result.images.empty()) {
    const Image& first = result.images[0];
    report.shape = {static_cast<std::int64_t>(result.images.size()), first.height, first.width,
                    first.channels};
  }
  report.bytes = bytes;
}

}  // namespace

int decode_command(const std::vector<std::string>& argv) {
  std::set<std::string> value_options = kClientValueOptions;
  value_options.insert(
      {"output-type", "format", "height", "width", "scaling-factor", "shift-factor", "name"});
  value_options.insert(kTileValueOptions.begin(), kTileValueOptions.end());
  value_options.insert(kChunkValueOptions.begin(), kChunkValueOptions.end());
  std::set<std::string> flags = kReportFlags;
  flags.insert("no-scaling");
  flags.insert(kClientFlags.begin(), kClientFlags.end());
  const Args args(argv, value_options, flags);
  if (args.has("help")) {
    std::cout << kUsage << kTileUsage << kChunkUsage;
    return 0;
  }
  if (args.positionals().empty())
    throw UsageError{"give a latents file (or several, or a directory, or - for stdin)"};
  const std::optional<std::string> output = args.get("output");
  if (!output) throw UsageError{"missing -o OUT"};
  const ReportStyle style = report_style(args);

  const PresetRegistry presets = load_presets(args);
  const ModelPreset preset = choose_preset(args, presets, "sdxl");
  DecodeOptions options = preset.decode_options();
  apply_factor_flags(args, options.scaling_factor, options.shift_factor, options.latents_mean,
                     options.latents_std);
  apply_tile_flags(args, options.tiling);
  options.height = args.get_int("height", 8, 1 << 16);
  options.width = args.get_int("width", 8, 1 << 16);
  if (options.height.has_value() != options.width.has_value()) {
    throw UsageError{"--height and --width go together"};
  }
  const std::vector<std::string> inputs =
      expand_inputs(args.positionals(), {".safetensors", ".npy"});
  const bool many = inputs.size() > 1 || is_directory_target(args.positionals()[0]);
  check_stdout_use(*output, many, style);
  if (many) {
    if (!is_directory_target(*output) && !extension_of(*output).empty()) {
      throw UsageError{"several inputs need a directory as -o OUT, got '" + *output + "'"};
    }
    options.output_type =
        args.has("output-type") ? output_type_for(args, *output) : OutputType::kImage;
    options.image_format = args.has("format") ? image_format_for(args, "") : ImageFormat::kPng;
  } else {
    options.output_type = output_type_for(args, *output);
    options.image_format = image_format_for(args, *output);
  }
  apply_chunk_flags(args, options, std::cerr);
  // Every input's output is known before anything is sent, so clashes are refused up front.
  std::vector<std::string> targets;
  for (const std::string& input : inputs) {
    targets.push_back(many ? join_path(*output, stem_of(input) + extension_for(options)) : *output);
  }
  check_output_collisions(inputs, targets);
  if (options.output_type == OutputType::kFloatTensor && *output != "-") {
    const std::string extension = extension_of(targets[0]);
    if (extension != ".npy" && extension != ".safetensors") {
      throw UsageError{"tensor output must be .safetensors or .npy: " + targets[0]};
    }
  }
  const std::string endpoint_url = choose_endpoint(args, preset, /*decode=*/true);
  const Endpoint endpoint = make_endpoint(args, endpoint_url);
  require_known_normalization(args, endpoint);
  const int jobs = args.get_int("jobs", 1, 1024).value_or(4);
  if (many) make_directories(*output);

  ClientOptions client = client_options(args);
  client.max_in_flight = requests_in_flight(jobs, options.tiling);
  Client decoder(client);
  const Reporter reporter("decode", style, args.has("verbose"), many);
  // A single video streaming to frames gets a bar of its frames on a terminal.
  const bool frames_bar = !many && options.output_type == OutputType::kUInt8 &&
                          is_directory_target(*output) && is_terminal(stderr);
  ProgressDisplay display(stderr, "decode", (many || frames_bar) && style != ReportStyle::kQuiet);
  const std::string tensor_name = args.get("name").value_or("");
  // Each input's latents stay alive until its request is done (they are sent without a copy).
  std::vector<Tensor> latents(inputs.size());
  // Where each input's reply streams to; alive until the end, for the progress counts.
  std::vector<std::unique_ptr<StreamedOutput>> streamed(inputs.size());
  std::vector<bool> reported(inputs.size(), false);

  const BatchSummary summary = run_batch<DecodeOutput>(
      inputs.size(), static_cast<std::size_t>(jobs),
      [&](std::size_t i, const CancelToken& cancel) {
        latents[i] = read_latents(inputs[i], tensor_name);
        check_decodable(latents[i].shape(), options);
        DecodeOptions one = options;
        one.control.cancel = cancel;
        // A video decoded to frames in a batch gets a directory of its own.
        const std::string video_directory =
            many ? join_path(*output, stem_of(inputs[i])) + "/" : "";
        streamed[i] = StreamedOutput::open(decoder, endpoint, latents[i].view(), one, targets[i],
                                           video_directory);
        if (streamed[i]) one.stream = streamed[i]->stream();
        return decoder.decode_async(endpoint, latents[i].view(), one);
      },
      [&](std::size_t i, Result<DecodeOutput> result) {
        latents[i] = Tensor();
        InputReport report;
        report.input = inputs[i];
        report.model = preset.name;
        report.endpoint = endpoint_url;
        if (result) {
          report.timings = result->timings;
          // A video decoded to frames in a batch gets a directory of its own.
          std::string target = targets[i];
          if (many && result->type == OutputType::kUInt8 && result->images.size() != 1) {
            target = join_path(*output, stem_of(inputs[i])) + "/";
          }
          try {
            if (streamed[i]) {
              streamed[i]->finish(*result, report);
            } else {
              const std::uint64_t bytes = write_decoded(*result, target, options);
              describe_output(*result, target, bytes, report);
            }
            // The next replies, and the images decoded from them, are received into these
            // pages instead of freshly faulted ones.
            for (Image& image : result->images)
              decoder.recycle(std::move(image.pixels));
            decoder.recycle(std::move(result->encoded));
          } catch (const Error& error) {
            report.error = error;
          }
        } else if (streamed[i]) {
          report.error = streamed[i]->fail(result.error(), report);
        } else {
          report.error = result.error();
        }
        reporter.report(report);
        reported[i] = true;
        return !report.error.has_value();
      },
      display,
      [&](ProgressCounts& counts) {
        counts.frames_written = 0;
        counts.frames_total = 0;
        for (const std::unique_ptr<StreamedOutput>& one : streamed) {
          if (!one) continue;
          counts.frames_written += one->frames_written();
          counts.frames_total += one->frames_total();
        }
      });
  // An interrupted video keeps the frames it wrote: say which, as a failure would.
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (reported[i] || !streamed[i] || streamed[i]->frames_written() == 0) continue;
    std::cerr << "rvae decode: " << (many ? inputs[i] + ": " : "")
              << "interrupted: " << streamed[i]->missing_text() << std::endl;
  }
  return reporter.conclude(summary);
}

}  // namespace rvae::cli
