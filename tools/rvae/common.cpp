#include "common.hpp"

#include "batch_io.hpp"
#include "paths.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>

namespace rvae::cli {

ReportStyle report_style(const Args& args) {
  if (args.has("json")) return ReportStyle::kJson;
  if (args.has("quiet")) return ReportStyle::kQuiet;
  return ReportStyle::kText;
}

void check_stdout_use(const std::string& output, bool many, ReportStyle style) {
  if (output != "-") return;
  if (many) throw UsageError{"-o - writes one result; several inputs need a directory as -o OUT"};
  if (style == ReportStyle::kJson) {
    throw UsageError{"-o - and --json both write to standard output; give -o FILE with --json"};
  }
}

PresetRegistry load_presets(const Args& args) {
  PresetRegistry presets = PresetRegistry::builtin();
  if (const char* file = std::getenv("RVAE_PRESETS"); file != nullptr && file[0] != '\0') {
    take(presets.merge_json_file(file));
  }
  if (std::optional<std::string> file = args.get("presets")) take(presets.merge_json_file(*file));
  return presets;
}

ModelPreset choose_preset(const Args& args, const PresetRegistry& presets,
                          const std::string& fallback) {
  const std::string name = args.get("model").value_or(fallback);
  const ModelPreset* preset = presets.find(name);
  if (preset == nullptr) {
    std::string known;
    for (const ModelPreset& each : presets.all())
      known += (known.empty() ? "" : ", ") + each.name;
    throw UsageError{"unknown --model '" + name + "' (known: " + known + ")"};
  }
  return *preset;
}

std::string choose_endpoint(const Args& args, const ModelPreset& preset, bool decode) {
  if (std::optional<std::string> endpoint = args.get("endpoint")) return *endpoint;
  if (const char* endpoint = std::getenv("RVAE_ENDPOINT"); endpoint != nullptr && endpoint[0]) {
    return endpoint;
  }
  const std::string& url = decode ? preset.decode_endpoint : preset.encode_endpoint;
  if (preset.decode_endpoint.empty() && preset.encode_endpoint.empty()) {
    throw UsageError{preset.name +
                     " has no public endpoint: give --endpoint URL (a Triton/KServe model or your "
                     "own server)"};
  }
  if (url.empty()) {
    throw UsageError{"model '" + preset.name + "' has no " + (decode ? "decode" : "encode") +
                     " endpoint; pass --endpoint URL"};
  }
  return url;
}

Endpoint make_endpoint(const Args& args, const std::string& url) {
  Endpoint endpoint(url);
  if (std::optional<std::string> protocol = args.get("protocol")) {
    if (*protocol == "hf") {
      endpoint.with_protocol(WireProtocol::kHuggingFace);
    } else if (*protocol == "open-inference") {
      endpoint.with_protocol(WireProtocol::kOpenInference);
    } else if (*protocol != "auto") {
      throw UsageError{"--protocol must be auto, hf or open-inference, got '" + *protocol + "'"};
    }
  }
  const std::string input = args.get("input-name").value_or("");
  const std::string output = args.get("output-name").value_or("");
  if (!input.empty() || !output.empty()) {
    if (take(protocol_of(endpoint)) != WireProtocol::kOpenInference) {
      throw UsageError{
          "--input-name and --output-name are for Open Inference endpoints "
          "(.../v2/models/NAME, or --protocol open-inference)"};
    }
    endpoint.with_tensor_names(input, output);
  }
  return endpoint;
}

void require_known_normalization(const Args& args, const Endpoint& endpoint) {
  if (args.has("model") || args.has("scaling-factor") || args.has("shift-factor") ||
      args.has("no-scaling")) {
    return;
  }
  if (take(protocol_of(endpoint)) != WireProtocol::kOpenInference) return;
  throw UsageError{
      "an Open Inference endpoint does not say how the model's latents are normalised: give "
      "--model NAME (its preset's factors or per-channel statistics), --scaling-factor F "
      "[--shift-factor F], or --no-scaling for latents that are already raw"};
}

ClientOptions client_options(const Args& args) {
  ClientOptions options;
  options.allow_token_over_http = args.has("allow-http-token");
  if (std::optional<double> seconds = args.get_double("timeout")) {
    if (*seconds <= 0) throw UsageError{"--timeout must be positive"};
    options.deadline = std::chrono::milliseconds(static_cast<long long>(*seconds * 1000));
  }
  if (std::optional<int> attempts = args.get_int("attempts", 1, 100)) {
    options.retry.max_attempts = *attempts;
  }
  if (std::optional<std::string> path = args.get("token-file")) {
    Result<Bytes> contents = read_file(*path, 64 * 1024);
    if (!contents) {
      // The message already names the file and the cause.
      throw Error(contents.error().code(), "--token-file: " + contents.error().message());
    }
    std::string token(contents->begin(), contents->end());
    const std::size_t first = token.find_first_not_of(" \t\r\n");
    const std::size_t last = token.find_last_not_of(" \t\r\n");
    if (first == std::string::npos) {
      throw Error(ErrorCode::kInvalidArgument, "--token-file '" + *path + "' is empty");
    }
    token = token.substr(first, last - first + 1);
    if (token.find_first_of(" \t\r\n") != std::string::npos) {
      throw Error(ErrorCode::kInvalidArgument,
                  "--token-file '" + *path + "' must hold one token on one line");
    }
    options.token = std::move(token);
    options.token_from_environment = false;
  }
  return options;
}

void apply_factor_flags(const Args& args, std::optional<double>& scaling_factor,
                        std::optional<double>& shift_factor) {
  if (args.has("no-scaling")) {
    if (args.has("scaling-factor") || args.has("shift-factor")) {
      throw UsageError{"--no-scaling contradicts --scaling-factor/--shift-factor"};
    }
    scaling_factor.reset();
    shift_factor.reset();
  }
  if (std::optional<double> factor = args.get_double("scaling-factor")) scaling_factor = factor;
  if (std::optional<double> shift = args.get_double("shift-factor")) shift_factor = shift;
}

void apply_factor_flags(const Args& args, std::optional<double>& scaling_factor,
                        std::optional<double>& shift_factor, std::vector<double>& latents_mean,
                        std::vector<double>& latents_std) {
  // Scalar flags name the whole normalisation: they replace per-channel statistics.
  if (args.has("no-scaling") || args.has("scaling-factor") || args.has("shift-factor")) {
    latents_mean.clear();
    latents_std.clear();
  }
  apply_factor_flags(args, scaling_factor, shift_factor);
}

std::string extension_of(const std::string& path) {
  const std::size_t slash = path.find_last_of(kPathSeparators);
  const std::size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string extension = path.substr(dot);
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension;
}

Tensor read_latents(const std::string& path, const std::string& name) {
  std::vector<NamedTensor> tensors;
  if (path == "-") {
    // Latents beyond 4 GiB are not sent in one request anyway.
    const Bytes data = read_stdin(std::size_t{4} << 30);
    static const std::uint8_t kNpyMagic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    if (data.size() >= 6 && std::equal(kNpyMagic, kNpyMagic + 6, data.begin())) {
      return take(parse_npy(data.data(), data.size()));
    }
    tensors = take(parse_safetensors(data.data(), data.size()));
  } else {
    const std::string extension = extension_of(path);
    if (extension == ".npy") return take(read_npy(path));
    if (extension != ".safetensors") {
      throw UsageError{"latents must be a .safetensors or .npy file: " + path};
    }
    tensors = take(read_safetensors(path));
  }
  if (tensors.empty()) throw Error(ErrorCode::kInvalidArgument, path + " holds no tensor");
  if (name.empty() && tensors.size() == 1) return std::move(tensors[0].tensor);
  std::string names;
  for (NamedTensor& named : tensors) {
    if (named.name == (name.empty() ? "latents" : name)) return std::move(named.tensor);
    names += (names.empty() ? "" : ", ") + named.name;
  }
  throw Error(ErrorCode::kInvalidArgument,
              path + " holds several tensors (" + names + "); choose one with --name");
}

Image read_input_image(const std::string& path) {
  if (path != "-") return take(read_image(path));
  const Bytes data = read_stdin(std::size_t{1} << 30);
  return take(decode_image(data.data(), data.size()));
}

void write_tensor(const std::string& path, const Tensor& tensor, const std::string& name) {
  const std::string extension = extension_of(path);
  if (extension == ".npy") {
    // .npy has no bfloat16 (Flux's encode replies come in it, as the service's do): widening to
    // float32 is exact.
    if (tensor.dtype() == DType::kBFloat16) {
      take(write_npy(path, take(convert(tensor.view(), DType::kFloat32)).view()));
      return;
    }
    take(write_npy(path, tensor.view()));
  } else if (extension == ".safetensors") {
    take(write_safetensors(path, {{name, tensor.view()}}));
  } else {
    throw UsageError{"tensor output must be .safetensors or .npy: " + path};
  }
}

}  // namespace rvae::cli
