// POST .../decode: latents -> the stand-in VAE's pixels, in the reply form the request asks for.
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

#if defined(RVAE_HAVE_FFMPEG) && RVAE_HAVE_FFMPEG
#include "testing/mp4_writer.hpp"
#define RVAE_DECODE_MP4 1
#else
#define RVAE_DECODE_MP4 0
#endif

namespace rvae::reference {
namespace {

enum class ReplyKind { kImage, kUInt8, kFloat, kMp4 };

struct DecodeParams {
  ReplyKind kind = ReplyKind::kImage;
  ImageFormat image_format = ImageFormat::kJpeg;
  bool base64_reply = false;  // Accept: tensor/base64 (tensor replies only).
  std::optional<double> scaling_factor;
  std::optional<double> shift_factor;
  bool do_scaling = false;
  std::optional<std::int64_t> height;
  std::optional<std::int64_t> width;
};

// Content-Type and Accept are compared by exact string, as the service's lookup tables do.
Result<void> check_content_type(const InferenceRequest& request) {
  if (!request.content_type) {
    return bad_request("Decode needs `Content-Type: tensor/binary`; the request has none.");
  }
  if (*request.content_type != "tensor/binary" && *request.content_type != kTensorBase64) {
    return bad_request("Content-Type `" + *request.content_type +
                       "` is not supported for decode; send exactly `tensor/binary` (or the "
                       "legacy `tensor/base64`).");
  }
  return {};
}

Result<ReplyKind> reply_kind(const InferenceRequest& request, const std::string& output_type,
                             bool partial_postprocess) {
  const std::optional<std::string>& accept = request.accept;
  // The service serialises MP4 bytes only through its raw text/plain serializer.
  if (output_type == "mp4") {
    if (accept && *accept == "text/plain") return ReplyKind::kMp4;
    return bad_request("output_type=mp4 needs `Accept: text/plain`, got `" + accept.value_or("") +
                       "`.");
  }
  if (!accept || *accept == "*/*" || *accept == "application/json") {
    return bad_request("Accept `" + accept.value_or("") +
                       "` asks for a JSON reply, which decode does not produce; send Accept: "
                       "image/jpeg or image/png (output_type=pil) or tensor/binary "
                       "(output_type=pt).");
  }
  if (*accept == "image/jpeg" || *accept == "image/png") {
    if (output_type != "pil") {
      return bad_request("Accept `" + *accept + "` needs output_type=pil, got `" + output_type +
                         "`.");
    }
    return ReplyKind::kImage;
  }
  // The reference client asks for a tensor with output_type=pil too when it post-processes
  // locally (its `processor` argument), so tensor/binary decides here.
  if (*accept == "tensor/binary" || *accept == kTensorBase64) {
    return partial_postprocess ? ReplyKind::kUInt8 : ReplyKind::kFloat;
  }
  if (*accept == "text/plain") {
    return bad_request("Accept `text/plain` is for output_type=mp4, got `" + output_type + "`.");
  }
  return bad_request("Accept `" + *accept +
                     "` is not supported; send image/jpeg, image/png, tensor/binary or "
                     "tensor/base64.");
}

Result<DecodeParams> parse_params(const InferenceRequest& request, const QueryParams& params) {
  DecodeParams out;
  RVAE_ASSIGN_OR_RETURN(std::optional<std::string> output_type, params.get_string("output_type"));
  const std::string type = output_type.value_or("pil");
#if !RVAE_DECODE_MP4
  if (type == "mp4") {
    return bad_request(
        "MP4 output needs FFmpeg, not built in to this reference endpoint; use output_type=pt.");
  }
#endif
  if (type != "mp4" && type != "pil" && type != "pt") {
    return bad_request("Unsupported `output_type` `" + type + "`; expected pil, pt or mp4.");
  }
  RVAE_ASSIGN_OR_RETURN(std::optional<bool> partial, params.get_bool("partial_postprocess"));
  RVAE_ASSIGN_OR_RETURN(std::optional<std::string> format, params.get_string("image_format"));
  const std::string format_name = format.value_or("jpg");
  if (format_name == "png") {
    out.image_format = ImageFormat::kPng;
  } else if (format_name != "jpg") {
    return bad_request("Unsupported `image_format` `" + format_name + "`; expected jpg or png.");
  }
  RVAE_ASSIGN_OR_RETURN(out.kind, reply_kind(request, type, partial.value_or(false)));
  out.base64_reply = request.accept && *request.accept == kTensorBase64;

  RVAE_ASSIGN_OR_RETURN(out.scaling_factor, params.get_number("scaling_factor"));
  if (out.scaling_factor && *out.scaling_factor == 0.0) {
    return bad_request("`scaling_factor` must not be zero.");
  }
  RVAE_ASSIGN_OR_RETURN(out.shift_factor, params.get_number("shift_factor"));
  RVAE_ASSIGN_OR_RETURN(std::optional<bool> do_scaling, params.get_bool("do_scaling"));
  out.do_scaling = do_scaling.value_or(false);
  RVAE_ASSIGN_OR_RETURN(out.height, params.get_int("height"));
  RVAE_ASSIGN_OR_RETURN(out.width, params.get_int("width"));
  return out;
}

// PROTOCOL.md §9: a per-channel model has no scalar form, so scalar factors would be a client's
// mistake (it must de-normalise itself and send raw latents).
Result<void> check_scalar_factors(const StandInVae& vae, const QueryParams& params) {
  if (!vae.per_channel()) return {};
  for (const char* key : {"scaling_factor", "shift_factor", "do_scaling"}) {
    if (params.find(key) != nullptr) {
      return bad_request(vae.name +
                         " normalises its latents per channel; send raw latents "
                         "without `" +
                         key + "` (no scalar factor exists for it).");
    }
  }
  return {};
}

// Latents as [B, C, T, h, w] (T = 1 for image latents), unpacked, as float32.
struct Latents {
  std::int64_t batch = 0, channels = 0, frames = 0, height = 0, width = 0;
  Tensor values;  // float32
};

Result<Latents> normalise_latents(const StandInVae& vae, Tensor tensor, const DecodeParams& p,
                                  const InferenceLimits& limits) {
  const std::size_t dims = tensor.shape().size();
  const std::string shape_text = shape_to_string(tensor.shape());
  if (dims == 3) {
    if (vae.is_video()) {
      return bad_request(vae.name + " decodes 5-D latents [B, C, T, h, w]; got " + shape_text +
                         ".");
    }
    if (!p.height || !p.width) {
      return bad_request("Packed (3-D) latents " + shape_text +
                         " need `height` and `width` query parameters.");
    }
    if (*p.height > limits.max_image_side || *p.width > limits.max_image_side) {
      return bad_request("Requested output of " + std::to_string(*p.width) + "x" +
                         std::to_string(*p.height) + " pixels exceeds the service cap of " +
                         std::to_string(limits.max_image_side) + "x" +
                         std::to_string(limits.max_image_side) + ".");
    }
    Result<Tensor> unpacked =
        unpack_latents(tensor.view(), static_cast<int>(*p.height), static_cast<int>(*p.width));
    if (!unpacked) return bad_request("Cannot unpack latents: " + unpacked.error().message());
    tensor = std::move(unpacked).value();
  } else if (dims == 4 && vae.is_video()) {
    return bad_request(vae.name + " decodes 5-D latents [B, C, T, h, w]; got " + shape_text + ".");
  } else if (dims == 5 && !vae.is_video()) {
    if (!vae.five_d_image || tensor.shape()[2] != 1) {
      return bad_request(vae.name + " decodes 4-D latents [B, C, h, w]" +
                         (vae.five_d_image ? ", 5-D [B, C, 1, h, w]" : "") +
                         " (or 3-D packed); got " + shape_text + ".");
    }
  } else if (dims != 4 && dims != 5) {
    return bad_request("Decode needs 3-D packed, 4-D image or 5-D video latents; got " +
                       shape_text + ".");
  }
  const Shape& s = tensor.shape();
  Latents latents;
  latents.batch = s[0];
  latents.channels = s[1];
  latents.frames = s.size() == 5 ? s[2] : 1;  // an image model's 5-D latent has T = 1
  latents.height = s[s.size() - 2];
  latents.width = s[s.size() - 1];
  if (latents.channels != vae.channels) {
    return bad_request(vae.name + " latents have " + std::to_string(vae.channels) +
                       " channels; got shape " + shape_to_string(s) + ".");
  }
  const std::int64_t max_latent_side = limits.max_image_side / 8;
  if (latents.height > max_latent_side || latents.width > max_latent_side) {
    return bad_request("Output of " + std::to_string(latents.width * 8) + "x" +
                       std::to_string(latents.height * 8) + " pixels exceeds the service cap of " +
                       std::to_string(limits.max_image_side) + "x" +
                       std::to_string(limits.max_image_side) + ".");
  }
  if (vae.is_video()) {
    RVAE_TRY(check_frame_cap(output_frames(vae, static_cast<std::size_t>(latents.frames)), limits));
  }
  RVAE_ASSIGN_OR_RETURN(latents.values, convert(tensor.view(), DType::kFloat32));
  return latents;
}

// The request's factors: the service unscales first (latents / scaling_factor + shift_factor);
// do_scaling alone means its built-in factors; neither means the latents are already raw.
RequestFactors request_factors(const StandInVae& vae, const DecodeParams& p) {
  RequestFactors factors;
  if (p.scaling_factor || p.shift_factor) {
    factors.apply = true;
    factors.scaling = p.scaling_factor.value_or(1.0);
    factors.shift = p.shift_factor.value_or(0.0);
  }
  if (p.do_scaling && !p.scaling_factor) {
    factors.apply = true;
    factors.scaling = vae.scaling;
    factors.shift = p.shift_factor.value_or(vae.shift);
  }
  return factors;
}

// uint8 [frames, height, width, 3] -> the MP4 reply (text/plain, as the service sends it).
Result<InferenceReply> mp4_reply(Bytes frames_rgb, std::size_t frames, std::int64_t width,
                                 std::int64_t height, const InferenceLimits& limits) {
#if RVAE_DECODE_MP4
  Mp4Settings settings;
  settings.max_bytes = limits.max_reply_bytes;
  Result<Bytes> mp4 = encode_mp4(frames_rgb.data(), frames_rgb.size(), frames,
                                 static_cast<int>(width), static_cast<int>(height), settings);
  if (!mp4) {
    // Over the reply cap is the request's fault, as for every other reply; the rest is ours.
    if (mp4.error().code() == ErrorCode::kResourceExhausted) {
      return bad_request(mp4.error().message());
    }
    return Error(ErrorCode::kInternal, mp4.error().message());
  }
  InferenceReply reply;
  reply.content_type = "text/plain";
  reply.body = std::move(mp4).value();
  return reply;
#else
  // parse_params refuses output_type=mp4 without FFmpeg, so this is never reached.
  static_cast<void>(frames_rgb);
  static_cast<void>(frames);
  static_cast<void>(width);
  static_cast<void>(height);
  static_cast<void>(limits);
  return Error(ErrorCode::kInternal, "MP4 output is not built in to this reference endpoint.");
#endif
}

}  // namespace

Result<void> check_frame_cap(std::size_t frames, const InferenceLimits& limits) {
  if (limits.max_frames > 0 && frames > static_cast<std::size_t>(limits.max_frames)) {
    return bad_request("Output of " + std::to_string(frames) +
                       " frames exceeds the service cap of " + std::to_string(limits.max_frames) +
                       " frames per request.");
  }
  return {};
}

Result<InferenceReply> run_decode(const StandInVae& vae, const InferenceRequest& request,
                                  const InferenceLimits& limits) {
  RVAE_TRY(check_content_type(request));
  const QueryParams params = QueryParams::parse(request.raw_query);
  RVAE_ASSIGN_OR_RETURN(const DecodeParams p, parse_params(request, params));
  RVAE_TRY(check_scalar_factors(vae, params));
  std::string unwrapped;  // the raw bytes of a tensor/base64 body
  std::string_view body = request.body;
  if (*request.content_type == kTensorBase64) {
    RVAE_ASSIGN_OR_RETURN(unwrapped, unwrap_base64_body(body));
    body = unwrapped;
  }
  RVAE_ASSIGN_OR_RETURN(Tensor tensor, parse_tensor_body(params, body, limits.max_body_bytes));
  RVAE_ASSIGN_OR_RETURN(const Latents latents,
                        normalise_latents(vae, std::move(tensor), p, limits));

  const std::int64_t height = latents.height * 8;
  const std::int64_t width = latents.width * 8;
  const std::int64_t out_frames =
      vae.is_video() ? vae.temporal_compression * (latents.frames - 1) + 1 : 1;
  InferenceReply reply;
  if (p.kind == ReplyKind::kImage) {
    if (vae.is_video() || latents.batch != 1) {
      return bad_request("output_type=pil returns one image: it needs image latents with batch 1.");
    }
    reply.shape = {height, width, 3};
    reply.dtype = DType::kUInt8;
  } else if (p.kind == ReplyKind::kMp4) {
    if (!vae.is_video()) {
      return bad_request("output_type=mp4 returns a video: it needs a video model; " + vae.name +
                         " decodes images.");
    }
    if (latents.batch != 1) {
      return bad_request(
          "output_type=mp4 returns one video: it needs batch 1, got latents of "
          "shape " +
          shape_to_string(
              {latents.batch, latents.channels, latents.frames, latents.height, latents.width}) +
          ".");
    }
    // The frames are built as a uint8 [F, H, W, 3] tensor first, so that size is capped too.
    reply.shape = {out_frames, height, width, 3};
    reply.dtype = DType::kUInt8;
  } else if (p.kind == ReplyKind::kUInt8) {
    reply.is_tensor = true;
    reply.dtype = DType::kUInt8;
    if (vae.is_video()) {
      reply.shape = {latents.batch * out_frames, height, width, 3};
    } else {
      reply.shape = {latents.batch, height, width, 3};
    }
  } else {
    reply.is_tensor = true;
    reply.dtype = vae.dtype;  // The VAE's own dtype, whatever the latents came in.
    if (vae.is_video()) {
      reply.shape = {latents.batch, 3, out_frames, height, width};
    } else {
      reply.shape = {latents.batch, 3, height, width};
    }
  }
  // The intermediate rgb table is 1/64 of a uint8 reply per frame, so this cap covers both.
  Result<std::size_t> reply_bytes =
      checked_byte_size(reply.shape, reply.dtype, limits.max_reply_bytes);
  if (!reply_bytes) {
    return bad_request("The reply for latents of shape " +
                       shape_to_string({latents.batch, latents.channels, latents.frames,
                                        latents.height, latents.width}) +
                       " would exceed the server's cap of " +
                       std::to_string(limits.max_reply_bytes) + " bytes.");
  }

  LatentGrid grid;
  grid.batch = static_cast<std::size_t>(latents.batch);
  grid.channels = static_cast<std::size_t>(latents.channels);
  grid.frames = static_cast<std::size_t>(latents.frames);
  grid.height = static_cast<std::size_t>(latents.height);
  grid.width = static_cast<std::size_t>(latents.width);
  grid.values = latents.values.data_as<float>();
  const std::vector<float> rgb =
      latent_rgb(vae, grid, request_factors(vae, p), limits.spatial_context);
  const auto frames = static_cast<std::size_t>(out_frames);
  Bytes pixels(*reply_bytes);
  if (p.kind == ReplyKind::kFloat) {
    write_float_pixels(vae, rgb, grid, reply.dtype, pixels.data());
  } else {
    write_uint8_pixels(vae, rgb, grid, pixels.data());
  }

  if (p.kind == ReplyKind::kMp4) return mp4_reply(std::move(pixels), frames, width, height, limits);
  if (p.kind != ReplyKind::kImage) {
    reply.content_type = "tensor/binary";
    reply.body = std::move(pixels);
    return p.base64_reply ? to_base64_reply(std::move(reply)) : reply;
  }
  Image image;
  image.width = static_cast<int>(width);
  image.height = static_cast<int>(height);
  image.channels = 3;
  image.pixels = std::move(pixels);
  RVAE_ASSIGN_OR_RETURN(Bytes encoded, p.image_format == ImageFormat::kPng
                                           ? encode_png(image)
                                           : encode_jpeg(image, 95));
  reply.content_type = p.image_format == ImageFormat::kPng ? "image/png" : "image/jpeg";
  reply.body = std::move(encoded);
  return reply;
}

}  // namespace rvae::reference
