// Pieces every subcommand shares: presets, client settings, endpoint choice, latent files.
#pragma once

#include <string>
#include <vector>

#include "args.hpp"
#include "report.hpp"
#include "rvae/rvae.hpp"

namespace rvae::cli {

/// Options every network subcommand accepts (take a value).
inline const std::set<std::string> kClientValueOptions = {
    "model",  "endpoint", "timeout",  "presets",    "attempts",   "token-file",
    "output", "jobs",     "protocol", "input-name", "output-name"};
/// Flags every network subcommand accepts.
inline const std::set<std::string> kClientFlags = {"allow-http-token"};
/// Flags of decode and encode: how results are reported.
inline const std::set<std::string> kReportFlags = {"help", "verbose", "quiet", "json"};

/// --json, --quiet or plain text (--json wins: its objects are the output).
ReportStyle report_style(const Args& args);
/// UsageError when `-o -` cannot work: with several inputs, or with --json (both want stdout).
void check_stdout_use(const std::string& output, bool many, ReportStyle style);

/// Built-in presets, then RVAE_PRESETS (a JSON file), then --presets FILE.
PresetRegistry load_presets(const Args& args);
/// The preset named by --model (default `fallback`); UsageError for an unknown name.
ModelPreset choose_preset(const Args& args, const PresetRegistry& presets,
                          const std::string& fallback);
/// --endpoint, else RVAE_ENDPOINT, else the preset's URL for the role.
std::string choose_endpoint(const Args& args, const ModelPreset& preset, bool decode);
/// The endpoint at `url`, with --protocol auto|hf|open-inference and, for the Open Inference
/// Protocol, --input-name/--output-name applied.
Endpoint make_endpoint(const Args& args, const std::string& url);
/// UsageError for an Open Inference endpoint used without --model or explicit factors
/// (--scaling-factor, --shift-factor, --no-scaling): its metadata does not say how the model's
/// latents are normalised, and a wrong guess decodes to garbage without an error.
void require_known_normalization(const Args& args, const Endpoint& endpoint);
/// Deadline from --timeout SECONDS, retries from --attempts N; the token from --token-file PATH,
/// else the environment (RVAE_TOKEN, else HF_TOKEN or the Hugging Face token file, which go only
/// to Hugging Face); --allow-http-token lets a token go in clear to a host that is not this
/// machine. A token is never taken on the command line, where `ps` would show it.
ClientOptions client_options(const Args& args);

/// Applies --scaling-factor, --shift-factor and --no-scaling to the preset's factors; for a
/// per-channel preset any of them replaces its statistics (latents_mean/latents_std cleared).
void apply_factor_flags(const Args& args, std::optional<double>& scaling_factor,
                        std::optional<double>& shift_factor, std::vector<double>& latents_mean,
                        std::vector<double>& latents_std);
/// The same for a preset without per-channel statistics.
void apply_factor_flags(const Args& args, std::optional<double>& scaling_factor,
                        std::optional<double>& shift_factor);

/// Lower-cased extension with its dot (".png"), or "" when there is none.
std::string extension_of(const std::string& path);
/// Reads latents from .safetensors (the only tensor, or the one called `name`) or .npy; `-`
/// reads either from standard input (told apart by the .npy magic).
Tensor read_latents(const std::string& path, const std::string& name);
/// Reads an image file; `-` reads a PNG or JPEG from standard input.
Image read_input_image(const std::string& path);
/// Writes a tensor as .safetensors (named `name`) or .npy, chosen by extension.
void write_tensor(const std::string& path, const Tensor& tensor, const std::string& name);

/// Throws the error when there is one: main() prints it on one line and exits with 1.
template <typename T>
T take(Result<T>&& result) {
  return std::move(result).value();
}
inline void take(Result<void>&& result) {
  result.value();
}

}  // namespace rvae::cli
