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
#include "testing/inference.hpp"
#include "testing/inference_util.hpp"
#include "testing/query_params.hpp"
#include "testing/stand_in_compute.hpp"
#include "testing/stand_in_vae.hpp"
#include "testing/tensor_base64.hpp"

namespace rvae::reference {
namespace {

// Pixels as [B, 3, F, H, W] values in [-1, 1] (F = 1 for an image), whatever the input form.
struct Pixels {
  std::size_t batch = 0, frames = 1, height = 0, width = 0;
  bool five_d = false;  // came as [B, 3, F, H, W]
  Tensor values;        // float32, each in [-1, 1]
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

Result<Pixels> pixels_from_tensor(const StandInVae& vae, const QueryParams& params,
                                  std::string_view body, const InferenceLimits& limits) {
  RVAE_ASSIGN_OR_RETURN(Tensor tensor, parse_tensor_body(params, body, limits.max_body_bytes));
  const Shape& s = tensor.shape();
  // Models whose VAE takes 5-D input (§9) also take a [B, 3, F, H, W] video; an image is F = 1.
  const bool five_d = s.size() == 5 && vae.latent_rank() == 5;
  if ((s.size() != 4 && !five_d) || s[1] != 3) {
    return bad_request(std::string("Encode takes pixel tensors [B, 3, H, W]") +
                       (vae.latent_rank() == 5 ? " or [B, 3, F, H, W]" : "") + "; got " +
                       shape_to_string(s) + ".");
  }
  for (auto [side_value, what] :
       {std::pair<std::int64_t, const char*>{s.back(), "width"},
        std::pair<std::int64_t, const char*>{s[s.size() - 2], "height"}}) {
    RVAE_TRY(check_side(side_value, what, limits));
  }
  RVAE_ASSIGN_OR_RETURN(Tensor floats, convert(tensor.view(), DType::kFloat32));
  Pixels pixels;
  pixels.batch = static_cast<std::size_t>(s[0]);
  pixels.frames = five_d ? static_cast<std::size_t>(s[2]) : 1;
  pixels.height = static_cast<std::size_t>(s[s.size() - 2]);
  pixels.width = static_cast<std::size_t>(s.back());
  pixels.five_d = five_d;
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

Result<void> check_frames(const StandInVae& vae, std::size_t frames, bool spatial_context) {
  if (vae.is_video()) {
    const auto tc = static_cast<std::size_t>(vae.temporal_compression);
    if (frames == 0 || (frames - 1) % tc != 0) {
      return bad_request(vae.name + " encodes " + std::to_string(tc) + "n + 1 frames; got " +
                         std::to_string(frames) + ".");
    }
  } else if (frames != 1) {
    return bad_request(vae.name + " encodes images: one frame, got " + std::to_string(frames) +
                       ".");
  }
  // PROTOCOL.md §7.1: context mode defines no encode of a video longer than one frame.
  if (spatial_context && frames > 1) {
    return bad_request("Context mode encodes one frame at a time; got " + std::to_string(frames) +
                       " frames.");
  }
  return {};
}

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
  if (vae.per_channel() && (scaling || shift)) {
    return bad_request(vae.name +
                       " normalises its latents per channel; ask for raw latents without "
                       "`scaling_factor` or `shift_factor` (no scalar factor exists for it).");
  }

  std::string unwrapped;  // the raw bytes of a tensor/base64 body
  std::string_view body = request.body;
  if (base64_body) {
    RVAE_ASSIGN_OR_RETURN(unwrapped, unwrap_base64_body(body));
    body = unwrapped;
  }
  RVAE_ASSIGN_OR_RETURN(const Pixels pixels, tensor_body
                                                 ? pixels_from_tensor(vae, params, body, limits)
                                                 : pixels_from_image(body, limits));

  RVAE_TRY(check_frames(vae, pixels.frames, limits.spatial_context));

  InferenceReply reply;
  reply.content_type = "tensor/binary";
  reply.is_tensor = true;
  reply.dtype = vae.dtype;  // The service encodes in the VAE's own dtype.
  const auto lh = static_cast<std::int64_t>(pixels.height / 8);
  const auto lw = static_cast<std::int64_t>(pixels.width / 8);
  const auto batch = static_cast<std::int64_t>(pixels.batch);
  // A video model's latents are 5-D whatever came in; Qwen-Image answers in the input's rank.
  if (vae.is_video() || pixels.five_d) {
    const auto latent_frames = static_cast<std::int64_t>(latent_frames_of(vae, pixels.frames));
    reply.shape = {batch, vae.channels, latent_frames, lh, lw};
  } else {
    reply.shape = {batch, vae.channels, lh, lw};
  }
  Result<std::size_t> reply_bytes =
      checked_byte_size(reply.shape, reply.dtype, limits.max_reply_bytes);
  if (!reply_bytes) {
    return bad_request("The reply would exceed the server's cap of " +
                       std::to_string(limits.max_reply_bytes) + " bytes.");
  }
  reply.body.resize(*reply_bytes);

  // Without factors the reply is the raw latent; with them, (z - shift) * scaling.
  RequestFactors factors;
  factors.apply = scaling.has_value() || shift.has_value();
  factors.scaling = scaling.value_or(1.0);
  factors.shift = shift.value_or(0.0);
  PixelGrid grid;
  grid.batch = pixels.batch;
  grid.frames = pixels.frames;
  grid.height = pixels.height;
  grid.width = pixels.width;
  grid.values = pixels.values.data_as<float>();
  encode_pixels(vae, grid, factors, limits.spatial_context, reply.dtype, reply.body.data());
  return base64_reply ? to_base64_reply(std::move(reply)) : reply;
}

}  // namespace rvae::reference
