// What a decode or encode request asks for, and what comes back.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "rvae/bytes.hpp"
#include "rvae/image.hpp"
#include "rvae/tensor.hpp"

namespace rvae {

/// What the decode endpoint should return (PROTOCOL.md §3, "Responses by request").
enum class OutputType {
  kImage,        ///< One encoded JPEG/PNG (`output_type=pil`); batch of 1, image latents only.
  kUInt8,        ///< RGB pixels as a uint8 tensor (`output_type=pt`, `partial_postprocess=True`).
  kFloatTensor,  ///< Raw decoder output in [-1, 1] (`output_type=pt`, `partial_postprocess=False`).
  kMp4,          ///< An MP4 file (`output_type=mp4`); video models only.
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
  bool do_scaling = false;
  /// Output size in pixels, sent only when both are set. Required for packed (3-D) Flux latents.
  std::optional<int> height;
  std::optional<int> width;
  /// Latent frames compress time this much (HunyuanVideo: 4): T frames give 4(T-1)+1. Used to
  /// validate video replies.
  int temporal_compression = 4;
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
};

/// Options of one encode request.
struct EncodeOptions {
  /// Sent as `scaling_factor`: the reply is (latents - shift_factor) * scaling_factor.
  std::optional<double> scaling_factor;
  /// Sent as `shift_factor`.
  std::optional<double> shift_factor;
  /// Content-Type of the request body. Unset (default) reproduces the reference Python client,
  /// which sends none at all; set e.g. "image/png" if an endpoint wants one.
  std::optional<std::string> content_type;
};

}  // namespace rvae
