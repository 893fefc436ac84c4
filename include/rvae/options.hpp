// What a decode or encode request asks for, and what comes back.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rvae/bytes.hpp"
#include "rvae/cancel.hpp"
#include "rvae/export.h"
#include "rvae/image.hpp"
#include "rvae/progress.hpp"
#include "rvae/reply_stream.hpp"
#include "rvae/tensor.hpp"
#include "rvae/tiling.hpp"

namespace rvae {

/// What the decode endpoint should return (PROTOCOL.md §3, "Responses by request").
enum class OutputType {
  kImage,        ///< One encoded JPEG/PNG (`output_type=pil`); batch of 1, image latents only.
  kUInt8,        ///< RGB pixels as a uint8 tensor (`output_type=pt`, `partial_postprocess=True`).
  kFloatTensor,  ///< Raw decoder output in [-1, 1] (`output_type=pt`, `partial_postprocess=False`).
  kMp4,          ///< An MP4 file (`output_type=mp4`); video models only.
};

/// Per-call control, beside the protocol options.
struct RequestControl {
  /// Cancels this call (and its retries) when cancelled; the result is ErrorCode::kCancelled.
  std::optional<CancelToken> cancel;
  /// Upload/download progress of the current attempt.
  ProgressCallback on_progress;
  /// Overrides ClientOptions::deadline for this call: the most it may take, retries included.
  std::optional<std::chrono::milliseconds> deadline;
};

/// Where the time of one call went. The phases are those of the last attempt (libcurl's own
/// measurements); queue and total span the whole call, retry waits included.
struct RequestTimings {
  std::chrono::microseconds prepare{0};      ///< Building the request (e.g. PNG-encoding).
  std::chrono::microseconds queue{0};        ///< Waiting for a free slot (max_in_flight).
  std::chrono::microseconds connect{0};      ///< DNS and TCP connect (0 on a reused connection).
  std::chrono::microseconds tls{0};          ///< TLS handshake (0 for http or reuse).
  std::chrono::microseconds upload{0};       ///< Sending the request body.
  std::chrono::microseconds server_wait{0};  ///< From the body sent to the first reply byte.
  std::chrono::microseconds download{0};     ///< Receiving the reply.
  std::chrono::microseconds decode{0};       ///< Validating and decoding the reply here.
  std::chrono::microseconds total{0};        ///< Call start to result, retries included.
  int attempts = 0;                          ///< Requests sent (1 without retries).
  std::uint64_t bytes_sent = 0;              ///< Request body bytes of the last attempt.
  std::uint64_t bytes_received = 0;          ///< Reply body bytes of the last attempt.
  std::string endpoint;                      ///< The URL that answered (no query, no userinfo).
  std::string protocol;                      ///< "HTTP/1.1", "HTTP/2", ... as negotiated.
};

/// Options of one decode request. Every query parameter of the protocol is here.
struct DecodeOptions {
  OutputType output_type = OutputType::kImage;
  /// Encoding of a kImage reply (`image_format=jpg|png`).
  ImageFormat image_format = ImageFormat::kJpeg;
  /// Sent as `scaling_factor`: the server computes latents / scaling_factor + shift_factor.
  /// Leave both unset to send latents that are already unscaled.
  std::optional<double> scaling_factor;
  /// Sent as `shift_factor`.
  std::optional<double> shift_factor;
  /// Legacy: sends `do_scaling=True` (the server's built-in factors) when no scaling_factor is set.
  /// Hugging Face protocol only.
  bool do_scaling = false;
  /// Per-channel latent statistics (Wan 2.1, Qwen-Image; PROTOCOL.md §9): one value per latent
  /// channel, both or neither. Then raw[c] = z[c] * latents_std[c] / s + latents_mean[c], with s
  /// = scaling_factor (1 when unset); shift_factor and do_scaling must be unset. No wire form
  /// carries vectors, so the client applies them itself and sends raw latents.
  std::vector<double> latents_mean;
  std::vector<double> latents_std;
  /// Output size in pixels, sent only when both are set. Required for packed (3-D) Flux latents.
  std::optional<int> height;
  std::optional<int> width;
  /// Latent frames compress time this much (HunyuanVideo: 4): T frames give 4(T-1)+1. Used to
  /// validate video replies.
  int temporal_compression = 4;
  /// Cancellation, progress and deadline of this call.
  RequestControl control;
  /// Tiling of outputs larger than the endpoint's cap (every call form; see rvae/tiled.hpp).
  TilingOptions tiling;
  /// Consumes the reply as it arrives instead of holding it (rvae/reply_stream.hpp).
  ReplyStream stream;
};

/// A decode result. Which members are filled depends on the request's OutputType.
struct DecodeOutput {
  OutputType type = OutputType::kImage;
  /// kImage: one image. kUInt8: one per batch item (or per video frame, in order).
  std::vector<Image> images;
  /// kFloatTensor: the decoder output as received ([B,3,H,W] or [B,3,F,H,W], float16, bfloat16
  /// or float32; use rvae::convert for float32).
  Tensor tensor;
  /// kImage: the encoded JPEG/PNG bytes as received (save them without re-encoding).
  /// kMp4: the MP4 file.
  Bytes encoded;
  /// A streamed reply (DecodeOptions::stream) leaves images, tensor and encoded empty: its layout
  /// as received (the dtype known now) and what was handed out.
  ReplyLayout layout;
  Delivered delivered;
  /// Where the time went (filled by Client; zero from the protocol layer alone).
  RequestTimings timings;
};

/// An encode result.
struct EncodeOutput {
  /// [B, C, H/8, W/8] latents as received (dtype as the server sent it).
  Tensor latents;
  RequestTimings timings;
};

/// Options of one encode request.
struct EncodeOptions {
  /// Sent as `scaling_factor`: the reply is (latents - shift_factor) * scaling_factor.
  std::optional<double> scaling_factor;
  /// Sent as `shift_factor`.
  std::optional<double> shift_factor;
  /// Per-channel latent statistics (PROTOCOL.md §9), both or neither: the client asks for raw
  /// latents and returns z[c] = (raw[c] - latents_mean[c]) * s / latents_std[c], s =
  /// scaling_factor (1 when unset), as float32; shift_factor must be unset.
  std::vector<double> latents_mean;
  std::vector<double> latents_std;
  /// Content-Type of the request body. Unset (default) reproduces the reference Python client,
  /// which sends none at all; set e.g. "image/png" if an endpoint wants one.
  std::optional<std::string> content_type;
  /// Cancellation, progress and deadline of this call.
  RequestControl control;
  /// Tiling of inputs larger than the endpoint's cap (every call form; see rvae/tiled.hpp).
  TilingOptions tiling;
};

}  // namespace rvae
