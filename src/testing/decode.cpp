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
#include "tensor/float_io.hpp"
#include "testing/context_blur.hpp"
#include "testing/inference.hpp"
#include "testing/inference_util.hpp"
#include "testing/query_params.hpp"
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
    return bad_request(vae.name + " decodes 4-D latents [B, C, h, w] (or 3-D packed); got " +
                       shape_text + ".");
  } else if (dims != 4 && dims != 5) {
    return bad_request("Decode needs 3-D packed, 4-D image or 5-D video latents; got " +
                       shape_text + ".");
  }
  const Shape& s = tensor.shape();
  Latents latents;
  latents.batch = s[0];
  latents.channels = s[1];
  latents.frames = s.size() == 5 ? s[2] : 1;
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
  RVAE_ASSIGN_OR_RETURN(latents.values, convert(tensor.view(), DType::kFloat32));
  return latents;
}

// The stand-in VAE on every latent pixel: rgb as [B, T, h, w, 3].
std::vector<float> latent_rgb(const StandInVae& vae, const Latents& latents, const DecodeParams& p,
                              bool spatial_context) {
  // The service unscales first (latents / scaling_factor + shift_factor); do_scaling alone means
  // its built-in factors; neither means the latents are already raw.
  bool unscale = false;
  double scaling = 1.0;
  double shift = 0.0;
  if (p.scaling_factor || p.shift_factor) {
    unscale = true;
    scaling = p.scaling_factor.value_or(1.0);
    shift = p.shift_factor.value_or(0.0);
  }
  if (p.do_scaling && !p.scaling_factor) {
    unscale = true;
    scaling = vae.scaling;
    shift = p.shift_factor.value_or(vae.shift);
  }
  const auto channels = static_cast<std::size_t>(latents.channels);
  const auto pixels_per_plane = static_cast<std::size_t>(latents.height * latents.width);
  const auto frames = static_cast<std::size_t>(latents.frames);
  const std::size_t channel_stride = frames * pixels_per_plane;
  const std::size_t batch = static_cast<std::size_t>(latents.batch);
  std::vector<float> rgb(batch * frames * pixels_per_plane * 3);
  // One frame's scaled latent, [C][h][w], so that §7 can see the whole plane.
  std::vector<double> x(channels * pixels_per_plane);
  for (std::size_t b = 0; b < batch; ++b) {
    const float* item = latents.values.data_as<float>() + b * channels * channel_stride;
    for (std::size_t t = 0; t < frames; ++t) {
      for (std::size_t c = 0; c < channels; ++c) {
        for (std::size_t pixel = 0; pixel < pixels_per_plane; ++pixel) {
          double z = item[c * channel_stride + t * pixels_per_plane + pixel];
          if (unscale) z = z / scaling + shift;
          x[c * pixels_per_plane + pixel] = (z - vae.shift) * vae.scaling;
        }
      }
      if (spatial_context) {
        apply_spatial_context(x.data(), channels, static_cast<std::size_t>(latents.height),
                              static_cast<std::size_t>(latents.width));
      }
      for (std::size_t pixel = 0; pixel < pixels_per_plane; ++pixel) {
        double out[3];
        vae.scaled_latent_to_rgb(x.data() + pixel, pixels_per_plane, out);
        float* dst = rgb.data() + ((b * frames + t) * pixels_per_plane + pixel) * 3;
        for (std::size_t k = 0; k < 3; ++k)
          dst[k] = static_cast<float>(out[k]);
      }
    }
  }
  return rgb;
}

// rgb in [-1, 1] to a level. The comparisons are written so that NaN (which the stand-in never
// produces, but a cast of it would be undefined) becomes 0, as in the library's float path.
std::uint8_t quantise(float value) noexcept {
  const double level = std::round((static_cast<double>(value) + 1.0) * 127.5);
  if (!(level > 0.0)) return 0;
  return static_cast<std::uint8_t>(level < 255.0 ? level : 255.0);
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

Result<InferenceReply> run_decode(const StandInVae& vae, const InferenceRequest& request,
                                  const InferenceLimits& limits) {
  RVAE_TRY(check_content_type(request));
  const QueryParams params = QueryParams::parse(request.raw_query);
  RVAE_ASSIGN_OR_RETURN(const DecodeParams p, parse_params(request, params));
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

  const std::vector<float> rgb = latent_rgb(vae, latents, p, limits.spatial_context);
  const auto h = static_cast<std::size_t>(height);
  const auto w = static_cast<std::size_t>(width);
  const auto lw = static_cast<std::size_t>(latents.width);
  const auto latent_plane = static_cast<std::size_t>(latents.height) * lw;
  const auto frames = static_cast<std::size_t>(out_frames);
  const auto latent_frames = static_cast<std::size_t>(latents.frames);
  const auto tc = static_cast<std::size_t>(vae.temporal_compression);
  // Latent frame 0 gives frame 0; latent frame k >= 1 gives frames tc*(k-1)+1 ... tc*k.
  auto latent_frame_of = [tc](std::size_t f) { return f == 0 ? 0 : (f - 1) / tc + 1; };
  const auto batch = static_cast<std::size_t>(latents.batch);

  Bytes pixels(*reply_bytes);
  if (p.kind == ReplyKind::kFloat) {
    std::size_t index = 0;
    for (std::size_t b = 0; b < batch; ++b) {
      for (std::size_t k = 0; k < 3; ++k) {
        for (std::size_t f = 0; f < frames; ++f) {
          const float* plane =
              rgb.data() + (b * latent_frames + latent_frame_of(f)) * latent_plane * 3;
          for (std::size_t y = 0; y < h; ++y) {
            const float* row = plane + (y / 8) * lw * 3;
            for (std::size_t x = 0; x < w; ++x) {
              internal::store_float(reply.dtype, pixels.data(), index++, row[(x / 8) * 3 + k]);
            }
          }
        }
      }
    }
  } else {
    std::uint8_t* dst = pixels.data();
    for (std::size_t b = 0; b < batch; ++b) {
      for (std::size_t f = 0; f < frames; ++f) {
        const float* plane =
            rgb.data() + (b * latent_frames + latent_frame_of(f)) * latent_plane * 3;
        for (std::size_t y = 0; y < h; ++y) {
          const float* row = plane + (y / 8) * lw * 3;
          for (std::size_t x = 0; x < w; ++x) {
            for (std::size_t k = 0; k < 3; ++k)
              *dst++ = quantise(row[(x / 8) * 3 + k]);
          }
        }
      }
    }
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
