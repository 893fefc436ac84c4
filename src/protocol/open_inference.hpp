// The Open Inference Protocol (KServe v2: Triton, KServe, OpenVINO Model Server, Seldon) as it
// applies to a VAE (PROTOCOL.md §8), as pure functions like the rest of protocol/: URLs, model
// metadata, inference requests and replies. No I/O here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.hpp"
#include "protocol/protocol.hpp"
#include "rvae/error.hpp"
#include "rvae/image.hpp"
#include "rvae/options.hpp"
#include "rvae/tensor.hpp"

namespace rvae::protocol::oip {

/// A model's address, parsed from an endpoint URL whose path ends in `/v2/models/{name}` or
/// `/v2/models/{name}/versions/{v}` (a prefix before `/v2` allowed, e.g. an ingress's
/// `/seldon/ns/dep`; one trailing slash tolerated; names may hold dots, hyphens, underscores).
struct ModelRoute {
  std::string base;     ///< scheme://authority[/prefix], no trailing slash.
  std::string model;    ///< The model's name as in the URL (percent-encoding kept).
  std::string version;  ///< Digits, or empty for none.
  std::string query;    ///< The endpoint URL's own query without '?', kept on every route.

  /// base + "/v2/models/" + model [+ "/versions/" + version]
  std::string model_path() const;
  /// The metadata route (GET): model_path() [+ "?" + query].
  std::string metadata_url() const;
  /// The readiness route (GET): model_path() + "/ready" [+ "?" + query].
  std::string ready_url() const;
  /// The inference route (POST): model_path() + "/infer" [+ "?" + query].
  std::string infer_url() const;
  /// The server's readiness route (GET): base + "/v2/health/ready" [+ "?" + query].
  std::string server_ready_url() const;
};

/// nullopt when the URL's path is not a model's path as above (then it is a Hugging Face URL
/// for WireProtocol::kAuto). The authority (userinfo, IPv6 literal, port) ends at the first
/// '/'; the path at '?' or '#'; a fragment is dropped. The name is one segment of URL
/// characters, not "." or "..". Does not validate the rest of the URL (validate_endpoint does).
std::optional<ModelRoute> parse_model_route(std::string_view url);

/// One tensor of a model's metadata; `shape` uses -1 for a variable dimension.
struct TensorMetadata {
  std::string name;
  std::string datatype;  ///< As the server spells it: "FP16", "FP32", "BF16", "UINT8", "INT64"...
  Shape shape;
};
bool operator==(const TensorMetadata& a, const TensorMetadata& b);
inline bool operator!=(const TensorMetadata& a, const TensorMetadata& b) {
  return !(a == b);
}

struct ModelMetadata {
  std::string name;
  std::vector<std::string> versions;
  std::string platform;
  std::vector<TensorMetadata> inputs;
  std::vector<TensorMetadata> outputs;
};
bool operator==(const ModelMetadata& a, const ModelMetadata& b);
inline bool operator!=(const ModelMetadata& a, const ModelMetadata& b) {
  return !(a == b);
}

/// `GET` with `Accept: application/json`; for the metadata, ready and server-ready routes.
http::HttpRequest get_request();

/// Parses a metadata reply: status 200 with the JSON object of §8 (other statuses: the error
/// of error_from_reply). Bounded: the body at most 1 MiB (ResourceExhausted past it), depth 16,
/// at most 64 tensors per side, rank at most 8, names at most 256 bytes, dimensions -1 or >= 0;
/// `name`, `inputs` and `outputs` required, `versions` and `platform` optional (null = absent);
/// the unknown keys are ignored. DataLoss with a clear message otherwise (malformed JSON, a
/// duplicate key or tensor name, a wrong type).
Result<ModelMetadata> parse_metadata_reply(http::HttpResponse&& response);

/// The wire name of a dtype ("FP32", "FP16", "BF16", "UINT8") and back (nullopt for a datatype
/// rvae cannot hold, e.g. "INT64" or "FP64").
std::string_view datatype_name(DType dtype) noexcept;
std::optional<DType> dtype_from_datatype(std::string_view datatype) noexcept;

/// Which tensors of a model a call uses: the caller's names, or the model's only input and
/// only output when the names are empty. InvalidArgument naming the model's tensors when a name
/// is unknown or the model has several and no name was given.
struct TensorChoice {
  const TensorMetadata* input = nullptr;
  const TensorMetadata* output = nullptr;
};
Result<TensorChoice> choose_tensors(const ModelMetadata& metadata, std::string_view input_name,
                                    std::string_view output_name);

/// What an inference reply must hold: one output by name, its datatype and its shape (-1 in
/// `shape` accepts any size there, e.g. an encoder's channel count the metadata leaves open).
struct InferExpectation {
  std::string output_name;
  DType dtype = DType::kFloat32;
  Shape shape;
};

/// Bounds on parsing a reply (hostile servers: the JSON header length, the JSON form's size).
struct InferReplyLimits {
  /// The most bytes of a binary reply's JSON header (Inference-Header-Content-Length).
  std::size_t max_json_header_bytes = std::size_t{1} << 20;
  /// The most bytes of a reply in the JSON form (`data` arrays): parsed with a streaming
  /// parser straight into the typed buffer, never into a DOM.
  std::size_t max_json_reply_bytes = std::size_t{256} << 20;
};

/// A POST to the infer route: the JSON header
/// `{"inputs":[{"name","shape","datatype","parameters":{"binary_data_size":N}}],
///   "outputs":[{"name","parameters":{"binary_data":true}}]}`
/// then the input's bytes (borrowed from `input`, which must outlive every send), with
/// `Content-Type: application/octet-stream` and `Inference-Header-Content-Length`.
/// InvalidArgument for a tensor that does not validate.
Result<http::HttpRequest> build_infer_request(std::string_view input_name, const TensorView& input,
                                              std::string_view output_name);

/// Parses an inference reply: status 200 (others: error_from_reply, which reads
/// `{"error": ...}`), binary form (Inference-Header-Content-Length) or JSON form; finds the
/// output by name, checks its datatype, shape, `binary_data_size` = numel x size and that the
/// binary sizes add up to the body; JSON `data` (flat or nested) must hold exactly numel finite
/// numbers within the datatype's range (UINT8: integers 0..255). A binary output's bytes are
/// moved to the front of the body, which becomes the tensor's buffer (no new allocation); JSON
/// data is streamed into a buffer of the output's size. An output whose `parameters` lack
/// `binary_data_size` (MLServer writes `{"content_type": ...}`) is read from its `data`: only
/// one with neither is refused (Triton's C++ client refuses both). DataLoss for a reply that
/// disagrees with `expect` or itself (also a 200 carrying only `{"error": ...}`, with the
/// server's message); ResourceExhausted past `limits`.
Result<Tensor> parse_infer_reply(http::HttpResponse&& response, const InferExpectation& expect,
                                 const InferReplyLimits& limits = {});
/// parse_infer_reply for a binary reply received in two parts: `json_header`, its first
/// Inference-Header-Content-Length bytes, kept apart by the receiver, and response.body, the
/// bytes after them. The same checks; the output's bytes, when they come first, become the
/// tensor where they lie (nothing is moved).
Result<Tensor> parse_infer_reply(http::HttpResponse&& response, Bytes&& json_header,
                                 const InferExpectation& expect,
                                 const InferReplyLimits& limits = {});

/// Where a binary reply's output lies in the bytes after its JSON header, for a reply used as
/// it arrives.
struct BinaryOutputPlace {
  Shape shape;
  std::uint64_t offset = 0;        ///< From the first byte after the JSON header.
  std::uint64_t bytes = 0;         ///< The output's.
  std::uint64_t binary_bytes = 0;  ///< Of every binary output: the body after the JSON header.
};
/// Reads a binary reply's JSON header alone and checks the output as parse_infer_reply does;
/// nullopt when the output's data is in the JSON instead (the whole reply is needed then).
Result<std::optional<BinaryOutputPlace>> locate_binary_output(std::string_view json_header,
                                                              const InferExpectation& expect);

/// A decode over this protocol, planned from the model's metadata and the caller's raw
/// (de-normalised, unpacked) latents [B, C, h, w] or [B, C, T, h, w].
/// `infer.shape` is fully determined; `expect.frames` is F for a rank-5 output, else 0.
struct DecodePlan {
  http::HttpRequest http;
  InferExpectation infer;
  DecodeExpectation expect;  ///< What the caller asked for (output type, sizes).
  /// The latents as sent when they had to be converted or reshaped (the request borrows them):
  /// keep alive with the request. Empty when the request borrows the caller's latents.
  std::shared_ptr<const Tensor> converted;
  int temporal_compression = 4;
};

/// Checks the latents against the model's input (rank 4 or 5: a 4-D latent goes to a rank-5
/// model as T = 1 and a 5-D one with T = 1 to a rank-4 model; channel count and fixed
/// dimensions), converts them to the input's datatype (FP32, FP16, BF16, any direction), and
/// derives the expected output: float [B, 3, H, W] / [B, 3, F, H, W] or UINT8 [B, H, W, 3] /
/// [B, F, H, W, 3] as the output's metadata says. InvalidArgument naming the model's expectation
/// for what no conversion can serve (rank, channels, an integer input, a fixed dimension),
/// for OutputType::kMp4 (no encoder in the client), for kImage of more than one picture, for
/// kFloatTensor from a UINT8 output, for a set height/width the latents disagree with.
/// `options` must have its normalisation cleared: scaling_factor, shift_factor, do_scaling,
/// latents_mean and latents_std set give InvalidArgument "internal: ..." (the engine
/// de-normalises first; this protocol has no scaling parameters). F = temporal_compression *
/// (T - 1) + 1.
Result<DecodePlan> plan_decode(const ModelMetadata& metadata, const TensorChoice& tensors,
                               const TensorView& raw_latents, const DecodeOptions& options);

/// The layout of what a planned decode returns (rvae/reply_stream.hpp): uint8 images
/// [N, H, W, 3] for kUInt8, the model's output for kFloatTensor, no shape for kImage.
ReplyLayout reply_layout(const DecodePlan& plan);
/// True when the output's bytes, as they arrive, are that layout's bytes (a UINT8 output for
/// kUInt8, any float output for kFloatTensor); false when they need converting first (float
/// pixels quantised to uint8, an image to encode).
bool streams_as_received(const DecodePlan& plan);

/// Parses the reply of a planned decode and returns what the caller asked for: the float
/// tensor as received (kFloatTensor: the model's own output shape, so a rank-5 model's
/// [B, 3, F, H, W] even for F = 1), uint8 images (kUInt8: one per batch item and video frame,
/// item-major, from float pixels quantised as the Hugging Face endpoint does for
/// partial_postprocess=True, round((v + 1) * 127.5) clamped, or the UINT8 reply as is), or one
/// PNG/JPEG encoded here (kImage: `images` holds the one image and `encoded` its file, as the
/// Hugging Face path fills them). ResourceExhausted for images above limits.max_pixels.
Result<DecodeOutput> parse_decode_reply(http::HttpResponse&& response, const DecodePlan& plan,
                                        const ReplyLimits& limits = {},
                                        const InferReplyLimits& infer_limits = {});
/// The second half of parse_decode_reply: what the caller asked for, from the reply's output
/// (as parse_infer_reply gave it).
Result<DecodeOutput> decode_output_of(Tensor&& output, const DecodePlan& plan,
                                      const ReplyLimits& limits = {});

/// An encode: the image (or a [B, 3, H, W] tensor in [-1, 1]) goes out as float [-1, 1]
/// NCHW in the input's datatype ([B, 3, 1, H, W] for a rank-5 model); the reply is the raw
/// latent [B, C, H/8, W/8] (or [B, C, 1, H/8, W/8]) in a float datatype.
struct EncodePlan {
  http::HttpRequest http;
  InferExpectation infer;
  /// The pixels as sent when they were made or converted here (the request borrows them): keep
  /// alive with the request. Empty when the request borrows the caller's pixel tensor (already
  /// in the model's datatype), which must then outlive every send.
  std::shared_ptr<const Tensor> pixels;
};
/// Images: RGB or RGBA (alpha dropped), sides multiples of 8, x = v / 127.5 - 1. Tensors:
/// float [B, 3, H, W] (or [B, 3, 1, H, W]). The reply's expected shape takes C from the output's
/// metadata when fixed, else any (-1). InvalidArgument naming the model's expectation otherwise.
Result<EncodePlan> plan_encode(const ModelMetadata& metadata, const TensorChoice& tensors,
                               ImageView image);
Result<EncodePlan> plan_encode(const ModelMetadata& metadata, const TensorChoice& tensors,
                               const TensorView& pixels);
/// The raw latent of an encode reply, validated against the plan.
Result<Tensor> parse_encode_reply(http::HttpResponse&& response, const EncodePlan& plan,
                                  const InferReplyLimits& limits = {});

/// True when a 400 from the infer route says the request's datatype or shape does not match
/// the model (a reloaded model): the metadata is then read again once. Reads the `error`
/// text for Triton's phrasings ("data-type", "unexpected shape", "unexpected inference input").
bool is_metadata_mismatch(const http::HttpResponse& response);

}  // namespace rvae::protocol::oip
