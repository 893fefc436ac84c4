// POST .../encode: an image (PNG/JPEG body) or a pixel tensor -> the stand-in VAE's latents.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/try.hpp"
#include "rvae/image.hpp"
#include "rvae/tensor.hpp"
#include "tensor/float_io.hpp"
#include "testing/context_blur.hpp"
#include "testing/inference.hpp"
#include "testing/inference_util.hpp"
#include "testing/query_params.hpp"
#include "testing/stand_in_vae.hpp"
#include "testing/tensor_base64.hpp"

namespace rvae::reference {
namespace {

// Pixels as [B, 3, H, W] values in [-1, 1], whatever the input form.
struct Pixels {
  std::size_t batch = 0, height = 0, width = 0;
  Tensor values;  // float32, each in [-1, 1]
};

Result<void> check_side(std::int64_t side, const char* what, const InferenceLimits& limits) {
  if (side % 8 != 0) {
    return bad_request(std::string("Image ") + what + " " + std::to_string(side) +
                       " is not a multiple of 8.");
  }
  if (side > limits.max_image_side) {
    return bad_request(std::string("Image ") + what + " " + std::to_string(side) +
                       " exceeds the service cap of " + std::to_string(limits.max_image_side) +
                       "x" + std::to_string(limits.max_image_side) + ".");
  }
  return {};
}

Result<Pixels> pixels_from_image(std::string_view body, const InferenceLimits& limits) {
  if (body.empty())
    return bad_request("Encode needs a PNG or JPEG image as the body; it is empty.");
  ImageDecodeOptions options;
  const auto side = static_cast<std::uint64_t>(limits.max_image_side);
  options.max_pixels = side * side;
  Result<Image> decoded =
      decode_image(reinterpret_cast<const std::uint8_t*>(body.data()), body.size(), options);
  if (!decoded) {
    return bad_request("The body is not an image the server can decode: " +
                       decoded.error().message());
  }
  const Image image = to_rgb(*decoded);
  for (auto [side_value, what] : {std::pair<std::int64_t, const char*>{image.width, "width"},
                                  std::pair<std::int64_t, const char*>{image.height, "height"}}) {
    RVAE_TRY(check_side(side_value, what, limits));
  }
  Pixels pixels;
  pixels.batch = 1;
  pixels.height = static_cast<std::size_t>(image.height);
  pixels.width = static_cast<std::size_t>(image.width);
  RVAE_ASSIGN_OR_RETURN(Tensor values,
                        Tensor::zeros({1, 3, image.height, image.width}, DType::kFloat32));
  const std::size_t plane = pixels.height * pixels.width;
  float* dst = values.data_as<float>();
  for (std::size_t i = 0; i < plane; ++i) {
    for (std::size_t k = 0; k < 3; ++k) {
      dst[k * plane + i] = static_cast<float>(image.pixels[i * 3 + k] / 127.5 - 1.0);
    }
  }
  pixels.values = std::move(values);
  return pixels;
}

Result<Pixels> pixels_from_tensor(const QueryParams& params, std::string_view body,
                                  const InferenceLimits& limits) {
  RVAE_ASSIGN_OR_RETURN(Tensor tensor, parse_tensor_body(params, body, limits.max_body_bytes));
  const Shape& s = tensor.shape();
  if (s.size() != 4 || s[1] != 3) {
    return bad_request("Encode takes pixel tensors [B, 3, H, W]; got " + shape_to_string(s) + ".");
  }
  for (auto [side_value, what] : {std::pair<std::int64_t, const char*>{s[3], "width"},
                                  std::pair<std::int64_t, const char*>{s[2], "height"}}) {
    RVAE_TRY(check_side(side_value, what, limits));
  }
  RVAE_ASSIGN_OR_RETURN(Tensor floats, convert(tensor.view(), DType::kFloat32));
  Pixels pixels;
  pixels.batch = static_cast<std::size_t>(s[0]);
  pixels.height = static_cast<std::size_t>(s[2]);
  pixels.width = static_cast<std::size_t>(s[3]);
  float* data = floats.data_as<float>();
  if (tensor.dtype() == DType::kUInt8) {  // 0..255 pixel levels, as in an image.
    for (std::size_t i = 0; i < floats.numel(); ++i) {
      data[i] = static_cast<float>(data[i] / 127.5 - 1.0);
    }
  } else {
    // Pixels outside [-1, 1] (Inf, the largest float16) would give latents no float16 holds;
    // NaN becomes -1, as the decoder's NaN does, so every reply is finite.
    for (std::size_t i = 0; i < floats.numel(); ++i) {
      data[i] = std::isnan(data[i]) ? -1.0f : std::clamp(data[i], -1.0f, 1.0f);
    }
  }
  pixels.values = std::move(floats);
  return pixels;
}

}  // namespace

Result<InferenceReply> run_encode(const StandInVae& vae, const InferenceRequest& request,
                                  const InferenceLimits& limits) {
  if (!vae.can_encode) return bad_request(vae.name + " has no encoder.");
  const QueryParams params = QueryParams::parse(request.raw_query);
  // The reference client sends no Content-Type for an image; image/* is accepted too. A tensor
  // comes as tensor/binary, or (as rvae::Client sends it) with no Content-Type, a body that is
  // not a PNG/JPEG, and `shape`/`dtype` in the query.
  const auto* body_bytes = reinterpret_cast<const std::uint8_t*>(request.body.data());
  const bool untyped_tensor = !request.content_type &&
                              !sniff_image_format(body_bytes, request.body.size()) &&
                              (params.find("shape") != nullptr || params.find("dtype") != nullptr);
  const bool base64_body = request.content_type && *request.content_type == kTensorBase64;
  const bool tensor_body = untyped_tensor || base64_body ||
                           (request.content_type && *request.content_type == "tensor/binary");
  if (request.content_type && !tensor_body && *request.content_type != "image/png" &&
      *request.content_type != "image/jpeg") {
    return bad_request("Content-Type `" + *request.content_type +
                       "` is not supported for encode; send a PNG/JPEG body with no "
                       "Content-Type, image/png or image/jpeg, or a tensor with tensor/binary.");
  }
  const bool base64_reply = request.accept && *request.accept == kTensorBase64;
  if (request.accept && *request.accept != "*/*" && *request.accept != "tensor/binary" &&
      !base64_reply) {
    return bad_request("Accept `" + *request.accept +
                       "` is not supported for encode, which replies with a tensor; send */*, "
                       "tensor/binary or tensor/base64.");
  }
  RVAE_ASSIGN_OR_RETURN(std::optional<double> scaling, params.get_number("scaling_factor"));
  RVAE_ASSIGN_OR_RETURN(std::optional<double> shift, params.get_number("shift_factor"));

  std::string unwrapped;  // the raw bytes of a tensor/base64 body
  std::string_view body = request.body;
  if (base64_body) {
    RVAE_ASSIGN_OR_RETURN(unwrapped, unwrap_base64_body(body));
    body = unwrapped;
  }
  RVAE_ASSIGN_OR_RETURN(const Pixels pixels, tensor_body ? pixels_from_tensor(params, body, limits)
                                                         : pixels_from_image(body, limits));

  InferenceReply reply;
  reply.content_type = "tensor/binary";
  reply.is_tensor = true;
  reply.dtype = vae.dtype;  // The service encodes in the VAE's own dtype.
  const std::size_t lh = pixels.height / 8;
  const std::size_t lw = pixels.width / 8;
  const auto channels = static_cast<std::size_t>(vae.channels);
  reply.shape = {static_cast<std::int64_t>(pixels.batch), vae.channels,
                 static_cast<std::int64_t>(lh), static_cast<std::int64_t>(lw)};
  Result<std::size_t> reply_bytes =
      checked_byte_size(reply.shape, reply.dtype, limits.max_reply_bytes);
  if (!reply_bytes) {
    return bad_request("The reply would exceed the server's cap of " +
                       std::to_string(limits.max_reply_bytes) + " bytes.");
  }
  reply.body.resize(*reply_bytes);

  // Without factors the reply is the raw latent; with them, (z - shift) * scaling.
  const bool rescale = scaling.has_value() || shift.has_value();
  const double out_scaling = scaling.value_or(1.0);
  const double out_shift = shift.value_or(0.0);
  const std::size_t plane = pixels.height * pixels.width;
  const std::size_t latent_plane = lh * lw;
  // One item's scaled latent, [C][lh][lw], so that §7 can see the whole plane.
  std::vector<double> x(channels * latent_plane);
  for (std::size_t b = 0; b < pixels.batch; ++b) {
    const float* item = pixels.values.data_as<float>() + b * 3 * plane;
    for (std::size_t i = 0; i < lh; ++i) {
      for (std::size_t j = 0; j < lw; ++j) {
        double rgb[3] = {0.0, 0.0, 0.0};
        for (std::size_t k = 0; k < 3; ++k) {
          for (std::size_t dy = 0; dy < 8; ++dy) {
            const float* row = item + k * plane + (i * 8 + dy) * pixels.width + j * 8;
            for (std::size_t dx = 0; dx < 8; ++dx)
              rgb[k] += row[dx];
          }
          rgb[k] /= 64.0;
        }
        vae.rgb_to_scaled_latent(rgb, x.data() + i * lw + j, latent_plane);
      }
    }
    if (limits.spatial_context) apply_spatial_context(x.data(), channels, lh, lw);
    for (std::size_t c = 0; c < channels; ++c) {
      for (std::size_t pixel = 0; pixel < latent_plane; ++pixel) {
        double z = x[c * latent_plane + pixel] / vae.scaling + vae.shift;
        if (rescale) z = (z - out_shift) * out_scaling;
        const std::size_t index = (b * channels + c) * latent_plane + pixel;
        internal::store_float(reply.dtype, reply.body.data(), index, static_cast<float>(z));
      }
    }
  }
  return base64_reply ? to_base64_reply(std::move(reply)) : reply;
}

}  // namespace rvae::reference
