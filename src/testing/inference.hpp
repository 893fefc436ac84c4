// The reference endpoint's request handling without sockets: one HTTP request's parts in, one
// reply (or an error to answer with HTTP 400) out.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rvae/bytes.hpp"
#include "rvae/error.hpp"
#include "rvae/tensor.hpp"
#include "testing/query_params.hpp"
#include "testing/stand_in_vae.hpp"

namespace rvae::reference {

/// The parts of a POST the handlers look at. Views into the server's request.
struct InferenceRequest {
  std::optional<std::string> content_type;  ///< Exact header value; nullopt when absent.
  std::optional<std::string> accept;        ///< Exact header value; nullopt when absent.
  std::string_view raw_query;
  std::string_view body;
};

/// Caps applied before any allocation.
struct InferenceLimits {
  int max_image_side = 2048;
  std::size_t max_body_bytes = std::size_t{256} << 20;
  std::size_t max_reply_bytes = std::size_t{1} << 30;
  /// Output frames of one decode (ReferenceEndpointOptions::max_frames); 0: no cap.
  int max_frames = 0;
  /// Not a cap: PROTOCOL.md §7's spatial context (blur and per-request mean; §7.1 for video),
  /// carried here so the handlers keep one settings argument.
  bool spatial_context = false;
};

/// A successful reply.
struct InferenceReply {
  std::string content_type;
  bool is_tensor = false;  ///< When true, `shape` and `dtype` describe the body (headers).
  Shape shape;
  DType dtype = DType::kFloat32;
  Bytes body;
  /// Further reply headers (the Open Inference Protocol's Inference-Header-Content-Length).
  std::vector<std::pair<std::string, std::string>> headers;
};

/// A tensor body: `dtype` and `shape` from the query (exact service error texts), body length
/// checked against them.
Result<Tensor> parse_tensor_body(const QueryParams& params, std::string_view body,
                                 std::size_t max_bytes);

/// InvalidArgument (HTTP 400) when a decode producing `frames` output frames exceeds
/// limits.max_frames, worded as the size cap is.
Result<void> check_frame_cap(std::size_t frames, const InferenceLimits& limits);

/// POST .../decode (PROTOCOL.md §3 with the stand-in VAE of §6).
Result<InferenceReply> run_decode(const StandInVae& vae, const InferenceRequest& request,
                                  const InferenceLimits& limits);
/// An encode's frame count: 4n + 1 for video models, 1 for image models; context mode encodes
/// one frame only (PROTOCOL.md §7.1). InvalidArgument otherwise.
Result<void> check_frames(const StandInVae& vae, std::size_t frames, bool spatial_context);

/// POST .../encode (PROTOCOL.md §4 with the stand-in VAE of §6).
Result<InferenceReply> run_encode(const StandInVae& vae, const InferenceRequest& request,
                                  const InferenceLimits& limits);

}  // namespace rvae::reference
