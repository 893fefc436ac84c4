#include <cstdint>
#include <limits>
#include <string>

#include "core/try.hpp"
#include "protocol/latent_normalization.hpp"
#include "protocol/protocol.hpp"
#include "protocol/protocol_internal.hpp"

namespace rvae::protocol {
namespace {

using internal::invalid_argument;

constexpr std::int64_t kMaxInt64 = std::numeric_limits<std::int64_t>::max();
// Packed (Flux) latents: each token covers a 2x2 patch of the 8x-compressed latent image.
constexpr std::int64_t kPackedPixelsPerToken = 2 * kSpatialCompression;

std::string_view output_type_param(OutputType type) {
  switch (type) {
    case OutputType::kImage:
      return "pil";
    case OutputType::kUInt8:
    case OutputType::kFloatTensor:
      return "pt";
    case OutputType::kMp4:
      return "mp4";
  }
  return "pil";
}

std::string_view accept_for(const DecodeOptions& options) {
  switch (options.output_type) {
    case OutputType::kImage:
      return options.image_format == ImageFormat::kPng ? "image/png" : "image/jpeg";
    case OutputType::kUInt8:
    case OutputType::kFloatTensor:
      return "tensor/binary";
    case OutputType::kMp4:
      return "text/plain";
  }
  return "tensor/binary";
}

bool known_output_type(OutputType type) {
  return type == OutputType::kImage || type == OutputType::kUInt8 ||
         type == OutputType::kFloatTensor || type == OutputType::kMp4;
}

// One spatial latent side to pixels, or InvalidArgument if it cannot be represented.
Result<std::int64_t> latent_to_pixels(std::int64_t latent, const char* name) {
  if (latent > kMaxInt64 / kSpatialCompression) {
    return invalid_argument(std::string("latent ") + name + " " + std::to_string(latent) +
                            " is too large");
  }
  return latent * kSpatialCompression;
}

// For 4-D and 5-D latents the server derives the size from the shape and ignores height/width,
// so a disagreeing value would silently not be honoured.
Result<void> check_size_matches(const std::optional<int>& given, std::int64_t derived,
                                const char* name) {
  if (given && *given != derived) {
    return invalid_argument(std::string(name) + " " + std::to_string(*given) +
                            " disagrees with the latents, which decode to " + name + " " +
                            std::to_string(derived) +
                            " (the server ignores height/width for unpacked latents)");
  }
  return {};
}

Result<DecodeExpectation> expectation_for(const TensorView& latents, const DecodeOptions& options) {
  const Shape& s = latents.shape;
  DecodeExpectation expect;
  expect.type = options.output_type;
  expect.image_format = options.image_format;
  expect.batch = s[0];
  if (s.size() == 3) {
    if (!options.height || !options.width) {
      return invalid_argument("packed latents " + shape_to_string(s) +
                              " need the output size: set height and width");
    }
    const std::int64_t height = *options.height;
    const std::int64_t width = *options.width;
    if (height % kPackedPixelsPerToken != 0 || width % kPackedPixelsPerToken != 0) {
      return invalid_argument(
          "packed latents need height and width that are multiples of 16; got " +
          std::to_string(height) + "x" + std::to_string(width) + " (height x width)");
    }
    const std::int64_t tokens = (height / kPackedPixelsPerToken) * (width / kPackedPixelsPerToken);
    if (s[1] != tokens) {
      return invalid_argument("packed latents " + shape_to_string(s) + " have " +
                              std::to_string(s[1]) + " tokens but height " +
                              std::to_string(height) + " and width " + std::to_string(width) +
                              " need (H/16)*(W/16) = " + std::to_string(tokens));
    }
    if (s[2] % 4 != 0) {
      return invalid_argument("packed latents " + shape_to_string(s) +
                              " need a last dimension divisible by 4 (4 * channels)");
    }
    expect.height = height;
    expect.width = width;
    return expect;
  }
  if (s.size() != 4 && s.size() != 5) {
    return invalid_argument("latents " + shape_to_string(s) +
                            " must be [B,C,h,w], packed [B,L,4C] or video [B,C,T,h,w]");
  }
  const bool video = s.size() == 5;
  RVAE_ASSIGN_OR_RETURN(auto height, latent_to_pixels(s[s.size() - 2], "height"));
  RVAE_ASSIGN_OR_RETURN(auto width, latent_to_pixels(s[s.size() - 1], "width"));
  RVAE_TRY(check_size_matches(options.height, height, "height"));
  RVAE_TRY(check_size_matches(options.width, width, "width"));
  expect.height = height;
  expect.width = width;
  if (video) {
    const std::int64_t tc = options.temporal_compression;
    if (tc < 1) {
      return invalid_argument("temporal_compression must be at least 1; got " + std::to_string(tc));
    }
    const std::int64_t latent_frames = s[2];
    if (latent_frames - 1 > (kMaxInt64 - 1) / tc) {
      return invalid_argument("video latents " + shape_to_string(s) + " have too many frames");
    }
    expect.frames = tc * (latent_frames - 1) + 1;
  }
  return expect;
}

Result<void> check_output_type(const Shape& s, const DecodeOptions& options) {
  const bool video = s.size() == 5;
  switch (options.output_type) {
    case OutputType::kImage:
      // A one-frame video is an image (Qwen-Image's latents are [B, 16, 1, h, w]).
      if (video && s[2] != 1) {
        return invalid_argument("an image reply cannot hold video latents " + shape_to_string(s) +
                                "; ask for MP4 or uint8 frames");
      }
      if (s[0] != 1) {
        return invalid_argument("an image reply holds one image but the batch is " +
                                std::to_string(s[0]) + "; ask for uint8 frames for batches");
      }
      return {};
    case OutputType::kMp4:
      if (!video) {
        return invalid_argument("an MP4 reply needs video latents [B,C,T,h,w]; got " +
                                shape_to_string(s));
      }
      return {};
    case OutputType::kUInt8:
    case OutputType::kFloatTensor:
      return {};
  }
  return {};
}

// Per-channel statistics have no wire form (PROTOCOL.md §9): the raw latents go out instead, in
// the latents' own dtype, packed ones unpacked to [B,C,h,w] first (the statistics are per
// channel of the unpacked layout).
Result<Tensor> raw_latents(const TensorView& latents, const LatentNormalization& norm,
                           const DecodeOptions& options) {
  if (latents.shape.size() != 3) return denormalize_latents(latents, norm, latents.dtype);
  // expectation_for has checked that packed latents come with height and width.
  RVAE_ASSIGN_OR_RETURN(auto unpacked, unpack_latents(latents, *options.height, *options.width));
  return denormalize_latents(unpacked.view(), norm, latents.dtype);
}

}  // namespace

Result<DecodeRequest> build_decode_request(const TensorView& latents,
                                           const DecodeOptions& options) {
  if (auto ok = latents.validate(); !ok) {
    return invalid_argument("latents: " + ok.error().message());
  }
  if (latents.dtype == DType::kUInt8) {
    return invalid_argument("latents must be float16, bfloat16 or float32; got uint8");
  }
  if (!known_output_type(options.output_type)) {
    return invalid_argument("unknown output type");
  }
  if (options.image_format != ImageFormat::kJpeg && options.image_format != ImageFormat::kPng) {
    return invalid_argument("unknown image format (jpg or png)");
  }
  RVAE_TRY(internal::validate_factors(options.scaling_factor, options.shift_factor));
  RVAE_ASSIGN_OR_RETURN(auto norm, normalization_of(options));
  if (options.height && *options.height <= 0) {
    return invalid_argument("height must be positive; got " + std::to_string(*options.height));
  }
  if (options.width && *options.width <= 0) {
    return invalid_argument("width must be positive; got " + std::to_string(*options.width));
  }
  if (options.height.has_value() != options.width.has_value()) {
    return invalid_argument("height and width must be set together");
  }
  RVAE_ASSIGN_OR_RETURN(auto expect, expectation_for(latents, options));
  RVAE_TRY(check_output_type(latents.shape, options));
  Tensor raw;
  if (is_per_channel(norm)) {
    auto converted = raw_latents(latents, *norm, options);
    if (!converted) return invalid_argument("latents: " + converted.error().message());
    raw = std::move(converted).value();
  }
  const bool send_raw = is_per_channel(norm);

  DecodeRequest request;
  internal::QueryBuilder query;
  query.add("image_format", options.image_format == ImageFormat::kPng ? "png" : "jpg");
  query.add("output_type", output_type_param(options.output_type));
  // Upstream always sends it; only the tensor reply is post-processed to uint8.
  query.add("partial_postprocess", options.output_type == OutputType::kUInt8 ? "True" : "False");
  query.add_shape(send_raw ? raw.shape() : latents.shape);
  query.add("dtype", dtype_name(latents.dtype));
  // Raw latents carry no factors: the server then scales nothing (PROTOCOL.md §3).
  if (!send_raw) {
    query.add_factors(options.scaling_factor, options.shift_factor);
    if (options.do_scaling && !options.scaling_factor) query.add("do_scaling", "True");
  }
  if (options.height && options.width) {
    query.add("height", std::to_string(*options.height));
    query.add("width", std::to_string(*options.width));
  }
  request.query = std::move(query).take();
  request.http.headers.push_back({"Content-Type", "tensor/binary"});
  request.http.headers.push_back({"Accept", std::string(accept_for(options))});
  if (send_raw) {
    request.http.body.append_owned(std::move(raw).release_bytes());
  } else {
    request.http.body.append_borrowed(static_cast<const std::uint8_t*>(latents.data),
                                      latents.size_bytes);
  }
  request.expect = expect;
  return request;
}

}  // namespace rvae::protocol
