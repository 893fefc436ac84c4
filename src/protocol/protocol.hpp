// The wire protocol of PROTOCOL.md as pure functions: inputs -> HttpRequest, and
// (HttpResponse, what was asked) -> validated output or typed Error. No I/O here.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.hpp"
#include "rvae/error.hpp"
#include "rvae/image.hpp"
#include "rvae/options.hpp"
#include "rvae/tensor.hpp"

namespace rvae::protocol {

using http::Header;
using http::HttpRequest;
using http::HttpResponse;

/// Every model compresses space 8x (PROTOCOL.md §1).
inline constexpr std::int64_t kSpatialCompression = 8;

/// Limits applied while parsing replies.
struct ReplyLimits {
  std::uint64_t max_pixels = 8192ull * 8192ull;
  /// ImageDecodeOptions::max_threads for image replies.
  int decode_threads = 2;
  /// Where a decoded image's pixels go: a buffer with room for the given bytes (a recycled one
  /// fills without page faults). Unset: a new allocation.
  std::function<Bytes(std::size_t)> image_storage;
};

/// What a decode reply must look like, derived from the request.
struct DecodeExpectation {
  OutputType type = OutputType::kImage;
  ImageFormat image_format = ImageFormat::kJpeg;
  std::int64_t batch = 1;
  std::int64_t height = 0;  ///< Pixels.
  std::int64_t width = 0;   ///< Pixels.
  std::int64_t frames = 0;  ///< Video frames per batch item; 0 for image latents.
};

struct DecodeRequest {
  HttpRequest http;
  /// The query to append to the endpoint's URL (compose_url): "a=1&b=2", no '?'.
  std::string query;
  DecodeExpectation expect;
};

/// InvalidArgument unless the endpoint is an absolute http(s) URL with a host and without
/// whitespace, control characters or a fragment. The message never echoes the URL (it may hold
/// credentials).
Result<void> validate_endpoint(std::string_view endpoint);

/// `endpoint` with `query` appended: starting the query with '?', or continuing one the
/// endpoint already has with '&' (none when it already ends in '?' or '&'); the endpoint as
/// is for an empty query.
std::string compose_url(std::string_view endpoint, std::string_view query);

/// Builds `POST ?image_format=..&output_type=..&partial_postprocess=..&shape=..&dtype=..
/// [&scaling_factor=..][&shift_factor=..][&do_scaling=True][&height=..&width=..]` (the query,
/// for any endpoint) with `Content-Type: tensor/binary` and the Accept matching the output type;
/// the body borrows the latents' bytes. With per-channel statistics (PROTOCOL.md §9) the body owns
/// the de-normalised latents instead (in their dtype; packed ones unpacked to [B,C,h,w]) and no
/// scaling parameter is sent. InvalidArgument for bad latents or option combination.
Result<DecodeRequest> build_decode_request(const TensorView& latents, const DecodeOptions& options);

/// Validates and converts a decode reply (status 200 expected; others become the error that
/// error_from_reply gives). Consumes the body so tensors and images take it without a copy.
Result<DecodeOutput> parse_decode_reply(HttpResponse&& response, const DecodeExpectation& expect,
                                        const ReplyLimits& limits = {});

/// What an encode reply must look like.
struct EncodeExpectation {
  std::int64_t batch = 1;
  std::int64_t latent_height = 0;
  std::int64_t latent_width = 0;
  /// Per-channel statistics the request left out: the reply holds raw latents, which
  /// parse_encode_reply normalises to float32 (PROTOCOL.md §9).
  std::optional<LatentNormalization> normalization;
};

struct EncodeRequest {
  HttpRequest http;
  /// The query to append to the endpoint's URL (compose_url).
  std::string query;
  EncodeExpectation expect;
};

/// Encode of an image: body = the image as PNG; no Content-Type unless options.content_type is
/// set; `Accept: */*`; factors as query parameters when given. The image's sides must be
/// multiples of 8.
Result<EncodeRequest> build_encode_request(ImageView image, const EncodeOptions& options);
/// Encode of a pixel tensor [B,3,H,W]: body borrows the tensor's bytes; `shape`/`dtype` query
/// parameters, then the factors. Per-channel statistics in the options send no factors and set
/// expect.normalization.
Result<EncodeRequest> build_encode_request(const TensorView& pixels, const EncodeOptions& options);

/// Validates an encode reply: a float tensor [B,C,H/8,W/8] with a body of exactly the size its
/// headers claim. With expect.normalization, the raw reply is normalised to float32; DataLoss
/// when its channel count is not the statistics'.
Result<Tensor> parse_encode_reply(HttpResponse&& response, const EncodeExpectation& expect);

/// A tensor reply's `shape` and `dtype` headers, and the body length they need.
struct TensorHeader {
  Shape shape;
  DType dtype = DType::kUInt8;
  std::size_t bytes = 0;
};
/// Reads and checks the `shape` and `dtype` headers alone (the body may still be arriving):
/// DataLoss when one is missing, malformed, or the size overflows.
Result<TensorHeader> parse_tensor_header(const HttpResponse& response);

/// Reads a tensor reply's `shape` and `dtype` headers and checks the body length against them
/// (overflow-safe). Takes the body without copying.
Result<Tensor> parse_tensor_reply(HttpResponse&& response);

/// The layout a decode reply to a request with `expect` must have (rvae/reply_stream.hpp): for a
/// float tensor over this protocol the dtype is the server's and stays unset. InvalidArgument for
/// an impossible size.
Result<ReplyLayout> decode_reply_layout(const DecodeExpectation& expect);
/// For a reply streamed as it arrives: its status is 200 and its headers (shape, dtype) agree with
/// `expect`, checked as parse_decode_reply checks them; the layout with the dtype received. A
/// kMp4 or kImage reply has no header to check (its layout is the expected one). Another status
/// gives error_from_reply's error.
Result<ReplyLayout> check_streamed_decode_reply(const HttpResponse& headers,
                                                const DecodeExpectation& expect,
                                                const ReplyLimits& limits = {});

/// The Error for a non-200 reply: code from the status (400 InvalidArgument, 401
/// Unauthenticated, 403 PermissionDenied, 404 NotFound, 408/504 DeadlineExceeded, 413/429
/// ResourceExhausted, 5xx Unavailable or Internal), retryable for 408/429/502/503/504, the
/// server's message from a JSON {"error": ...} body, other JSON, HTML (its title or text),
/// plain text or nothing; never longer than a few hundred characters.
Error error_from_reply(const HttpResponse& response);

/// Adds `X-Scale-Up-Timeout: <seconds>`, which asks a scaled-to-zero Inference Endpoint to hold
/// the request while it starts instead of answering 503 (PROTOCOL.md §2).
void add_scale_up_timeout(HttpRequest& request, std::chrono::seconds timeout);

/// A double printed so that it parses back to the same double, Python-style ("0.18215",
/// "1.0", "1e-05"). Callers reject non-finite values first.
std::string format_double(double value);

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
std::string url_encode(std::string_view value);

}  // namespace rvae::protocol
