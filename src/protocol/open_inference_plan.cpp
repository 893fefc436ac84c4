// Decode and encode requests planned from a model's metadata: shapes mapped between 4-D and
// 5-D models, latents and pixels converted to the model's datatype, and the reply expected.
#include <array>
#include <cstring>
#include <limits>
#include <string>

#include "core/try.hpp"
#include "protocol/open_inference.hpp"
#include "protocol/open_inference_internal.hpp"
#include "protocol/protocol_internal.hpp"

namespace rvae::protocol::oip {
namespace {

using internal::dims_text;
using internal::in_quotes;
using protocol::internal::invalid_argument;

constexpr std::int64_t kMaxImageSide = 65535;

std::string describe(const ModelMetadata& metadata, const TensorMetadata& tensor,
                     const char* side) {
  return "model " + in_quotes(metadata.name) + " " + side + " " + in_quotes(tensor.name) + " (" +
         in_quotes(tensor.datatype) + " " + dims_text(tensor.shape) + ")";
}

bool is_float(std::optional<DType> dtype) {
  return dtype && *dtype != DType::kUInt8;
}

// The model's fixed dimensions must match; -1 takes any size.
Result<void> check_dims(const Shape& model, const Shape& sent, const std::string& what,
                        const char* verb) {
  bool ok = model.size() == sent.size();
  for (std::size_t i = 0; ok && i < model.size(); ++i) {
    ok = model[i] < 0 || model[i] == sent[i];
  }
  if (!ok) {
    return invalid_argument(what + " " + verb + " " + dims_text(model) + "; this call needs " +
                            dims_text(sent));
  }
  return {};
}

Result<TensorChoice> checked_choice(const TensorChoice& tensors) {
  if (tensors.input == nullptr || tensors.output == nullptr) {
    return Error(ErrorCode::kInternal, "internal: no model tensors chosen for the request");
  }
  return tensors;
}

Result<void> check_raw_latent_options(const DecodeOptions& options) {
  // The engine de-normalises: this protocol has no scaling parameters (PROTOCOL.md §8).
  if (options.scaling_factor || options.shift_factor || options.do_scaling ||
      !options.latents_mean.empty() || !options.latents_std.empty()) {
    return invalid_argument(
        "internal: the Open Inference Protocol takes raw latents; the client applies the "
        "scaling factors and latent statistics before planning the request");
  }
  if (options.temporal_compression < 1) {
    return invalid_argument("temporal_compression must be at least 1; got " +
                            std::to_string(options.temporal_compression));
  }
  return {};
}

Result<void> check_output_type(const DecodeOptions& options) {
  if (options.output_type == OutputType::kMp4) {
    return invalid_argument(
        "MP4 output needs the Hugging Face protocol (this client has no video encoder); save "
        "the frames instead (-o frames/) or ask for uint8 output");
  }
  return {};
}

// The shape the latents go out as: 4-D latents to a rank-5 model as T = 1, 5-D latents with
// T = 1 to a rank-4 model without it.
Result<Shape> sent_latent_shape(const Shape& raw, std::size_t model_rank,
                                const std::string& model) {
  if (raw.size() == model_rank) return raw;
  if (raw.size() == 4) return Shape{raw[0], raw[1], 1, raw[2], raw[3]};
  if (raw[2] != 1) {
    return invalid_argument(model + " takes image latents [B, C, h, w]; these are video latents " +
                            dims_text(raw) + " with " + std::to_string(raw[2]) + " frames");
  }
  return Shape{raw[0], raw[1], raw[3], raw[4]};
}

struct PixelGeometry {
  std::int64_t batch = 1;
  std::int64_t frames = 1;
  std::int64_t height = 0;
  std::int64_t width = 0;
};

// What a decoder's output must be, by its datatype and rank.
Result<Shape> decoded_shape(const TensorMetadata& output, DType dtype, const PixelGeometry& g,
                            const std::string& model) {
  const std::size_t rank = output.shape.size();
  if (rank != 4 && rank != 5) {
    return invalid_argument(model +
                            " is not a decoder's image output [B, 3, H, W] or video "
                            "output [B, 3, F, H, W]");
  }
  if (rank == 4 && g.frames != 1) {
    return invalid_argument(model + " has no frame axis; these latents decode to " +
                            std::to_string(g.frames) + " frames");
  }
  if (dtype == DType::kUInt8) {
    return rank == 4 ? Shape{g.batch, g.height, g.width, 3}
                     : Shape{g.batch, g.frames, g.height, g.width, 3};
  }
  return rank == 4 ? Shape{g.batch, 3, g.height, g.width}
                   : Shape{g.batch, 3, g.frames, g.height, g.width};
}

Result<void> check_decode_output_type(const DecodeOptions& options, DType dtype,
                                      const PixelGeometry& g, const std::string& model) {
  if (options.output_type == OutputType::kFloatTensor && dtype == DType::kUInt8) {
    return invalid_argument(model +
                            " gives uint8 pixels, not the float decoder output; ask for "
                            "uint8 or image output");
  }
  if (options.output_type == OutputType::kImage && (g.batch != 1 || g.frames != 1)) {
    return invalid_argument("an encoded image holds one picture; these latents decode to " +
                            std::to_string(g.batch * g.frames) +
                            " (ask for uint8 output, or save frames)");
  }
  if (options.output_type != OutputType::kFloatTensor &&
      (g.height > kMaxImageSide || g.width > kMaxImageSide)) {
    return invalid_argument(
        "images above 65535 pixels per side are not supported; these "
        "latents decode to " +
        std::to_string(g.width) + "x" + std::to_string(g.height));
  }
  for (const auto& [value, name] :
       {std::pair{options.height, "height"}, std::pair{options.width, "width"}}) {
    const std::int64_t actual = std::string_view(name) == "height" ? g.height : g.width;
    if (value && *value != actual) {
      return invalid_argument(std::string(name) + " " + std::to_string(*value) +
                              " does not match the latents, which decode to " +
                              std::to_string(actual));
    }
  }
  return {};
}

// A view of `data` as `shape` in `dtype` (the same bytes, another shape).
TensorView reshaped(const TensorView& view, Shape shape) {
  TensorView out = view;
  out.shape = std::move(shape);
  return out;
}

// Converts `view` to `dtype` when it differs; the request then borrows the converted copy.
Result<std::shared_ptr<const Tensor>> converted_to(const TensorView& view, DType dtype) {
  if (view.dtype == dtype) return std::shared_ptr<const Tensor>();
  RVAE_ASSIGN_OR_RETURN(Tensor tensor, convert(view, dtype));
  return std::shared_ptr<const Tensor>(std::make_shared<Tensor>(std::move(tensor)));
}

// The encoder's side of a plan: input and output checked, the pixels (shaped for the model,
// already in its datatype) borrowed by the request.
Result<EncodePlan> finish_encode(const ModelMetadata& metadata, const TensorChoice& tensors,
                                 const TensorView& pixels, std::shared_ptr<const Tensor> owner) {
  const TensorMetadata& in = *tensors.input;
  const TensorMetadata& out = *tensors.output;
  const std::string in_text = describe(metadata, in, "input");
  const std::string out_text = describe(metadata, out, "output");
  RVAE_TRY(check_dims(in.shape, pixels.shape, in_text, "takes"));
  const std::optional<DType> out_dtype = dtype_from_datatype(out.datatype);
  if (!is_float(out_dtype) || (out.shape.size() != 4 && out.shape.size() != 5)) {
    return invalid_argument(out_text +
                            " is not an encoder's latent output [B, C, h, w] in "
                            "FP32, FP16 or BF16");
  }
  const Shape& s = pixels.shape;
  const std::int64_t channels = out.shape[1] >= 0 ? out.shape[1] : -1;
  const std::int64_t h = s[s.size() - 2] / kSpatialCompression;
  const std::int64_t w = s[s.size() - 1] / kSpatialCompression;
  Shape expected =
      out.shape.size() == 4 ? Shape{s[0], channels, h, w} : Shape{s[0], channels, 1, h, w};
  RVAE_TRY(check_dims(out.shape, expected, out_text, "gives"));
  EncodePlan plan;
  RVAE_ASSIGN_OR_RETURN(plan.http, build_infer_request(in.name, pixels, out.name));
  plan.infer.output_name = out.name;
  plan.infer.dtype = *out_dtype;
  plan.infer.shape = std::move(expected);
  plan.pixels = std::move(owner);
  return plan;
}

Result<DType> encoder_input_dtype(const ModelMetadata& metadata, const TensorMetadata& in) {
  const std::optional<DType> dtype = dtype_from_datatype(in.datatype);
  if (!is_float(dtype) || (in.shape.size() != 4 && in.shape.size() != 5)) {
    return invalid_argument(describe(metadata, in, "input") +
                            " is not an encoder's pixel input [B, 3, H, W] in FP32, FP16 or BF16");
  }
  return *dtype;
}

Result<void> check_sides(std::int64_t height, std::int64_t width, const char* what) {
  if (height % kSpatialCompression != 0 || width % kSpatialCompression != 0) {
    return invalid_argument(std::string(what) + " size " + std::to_string(width) + "x" +
                            std::to_string(height) +
                            " (width x height) must be a multiple of 8 on both sides");
  }
  return {};
}

}  // namespace

Result<DecodePlan> plan_decode(const ModelMetadata& metadata, const TensorChoice& tensors,
                               const TensorView& raw_latents, const DecodeOptions& options) {
  RVAE_TRY(checked_choice(tensors));
  RVAE_TRY(check_raw_latent_options(options));
  RVAE_TRY(check_output_type(options));
  if (Result<void> ok = raw_latents.validate(); !ok) {
    return invalid_argument("latents: " + ok.error().message());
  }
  const Shape& raw = raw_latents.shape;
  if (raw_latents.dtype == DType::kUInt8 || (raw.size() != 4 && raw.size() != 5)) {
    return invalid_argument("latents must be float [B, C, h, w] or [B, C, T, h, w]; got " +
                            std::string(dtype_name(raw_latents.dtype)) + " " + dims_text(raw));
  }
  const TensorMetadata& in = *tensors.input;
  const TensorMetadata& out = *tensors.output;
  const std::string in_text = describe(metadata, in, "input");
  const std::string out_text = describe(metadata, out, "output");
  const std::optional<DType> in_dtype = dtype_from_datatype(in.datatype);
  if (!is_float(in_dtype) || (in.shape.size() != 4 && in.shape.size() != 5)) {
    return invalid_argument(in_text +
                            " is not a decoder's latent input [B, C, h, w] or "
                            "[B, C, T, h, w] in FP32, FP16 or BF16");
  }
  RVAE_ASSIGN_OR_RETURN(Shape sent, sent_latent_shape(raw, in.shape.size(), in_text));
  if (in.shape[1] >= 0 && in.shape[1] != sent[1]) {
    return invalid_argument(in_text + " takes " + std::to_string(in.shape[1]) +
                            " latent channels; these latents have " + std::to_string(sent[1]) +
                            " " + dims_text(raw));
  }
  RVAE_TRY(check_dims(in.shape, sent, in_text, "takes"));

  const std::optional<DType> out_dtype = dtype_from_datatype(out.datatype);
  if (!out_dtype) {
    return invalid_argument(out_text + " is not float or UINT8 pixels");
  }
  if (sent.size() == 5 &&
      sent[2] - 1 > (std::numeric_limits<std::int64_t>::max() - 1) / options.temporal_compression) {
    return invalid_argument("latents " + dims_text(raw) + " have too many frames");
  }
  PixelGeometry g;
  g.batch = sent[0];
  g.frames = sent.size() == 5 ? options.temporal_compression * (sent[2] - 1) + 1 : 1;
  g.height = sent[sent.size() - 2] * kSpatialCompression;
  g.width = sent[sent.size() - 1] * kSpatialCompression;
  RVAE_TRY(check_decode_output_type(options, *out_dtype, g, out_text));
  RVAE_ASSIGN_OR_RETURN(Shape expected, decoded_shape(out, *out_dtype, g, out_text));
  RVAE_TRY(check_dims(out.shape, expected, out_text, "gives"));

  DecodePlan plan;
  RVAE_ASSIGN_OR_RETURN(plan.converted, converted_to(raw_latents, *in_dtype));
  const TensorView wire = reshaped(plan.converted ? plan.converted->view() : raw_latents, sent);
  RVAE_ASSIGN_OR_RETURN(plan.http, build_infer_request(in.name, wire, out.name));
  plan.infer.output_name = out.name;
  plan.infer.dtype = *out_dtype;
  plan.expect.frames = expected.size() == 5 ? g.frames : 0;
  plan.infer.shape = std::move(expected);
  plan.expect.type = options.output_type;
  plan.expect.image_format = options.image_format;
  plan.expect.batch = g.batch;
  plan.expect.height = g.height;
  plan.expect.width = g.width;
  plan.temporal_compression = options.temporal_compression;
  return plan;
}

Result<EncodePlan> plan_encode(const ModelMetadata& metadata, const TensorChoice& tensors,
                               ImageView image) {
  RVAE_TRY(checked_choice(tensors));
  if (Result<void> ok = image.validate(); !ok) {
    return invalid_argument("image: " + ok.error().message());
  }
  RVAE_TRY(check_sides(image.height, image.width, "image"));
  RVAE_ASSIGN_OR_RETURN(const DType dtype, encoder_input_dtype(metadata, *tensors.input));
  const Shape shape = tensors.input->shape.size() == 4 ? Shape{1, 3, image.height, image.width}
                                                       : Shape{1, 3, 1, image.height, image.width};
  RVAE_ASSIGN_OR_RETURN(Tensor pixels, Tensor::zeros(shape, dtype));
  // Each of the 256 levels as an element of the model's datatype, x = v / 127.5 - 1 as the
  // reference endpoint computes it; alpha is dropped, as the Hugging Face path does.
  const std::size_t size = dtype_size(dtype);
  std::array<std::uint8_t, 256 * 4> levels{};
  for (int v = 0; v < 256; ++v) {
    const float x = static_cast<float>(v / 127.5 - 1.0);
    Result<Tensor> one = convert(TensorView{&x, 4, {1}, DType::kFloat32}, dtype);
    if (!one) return std::move(one).error();
    std::memcpy(levels.data() + static_cast<std::size_t>(v) * size, one->data(), size);
  }
  const auto plane = static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.height);
  const auto channels = static_cast<std::size_t>(image.channels);
  std::uint8_t* dst = pixels.data();
  for (std::size_t k = 0; k < 3; ++k) {
    std::uint8_t* out = dst + k * plane * size;
    for (std::size_t i = 0; i < plane; ++i) {
      std::memcpy(out + i * size, levels.data() + image.pixels[i * channels + k] * size, size);
    }
  }
  auto owner = std::make_shared<const Tensor>(std::move(pixels));
  return finish_encode(metadata, tensors, owner->view(), owner);
}

Result<EncodePlan> plan_encode(const ModelMetadata& metadata, const TensorChoice& tensors,
                               const TensorView& pixels) {
  RVAE_TRY(checked_choice(tensors));
  if (Result<void> ok = pixels.validate(); !ok) {
    return invalid_argument("pixels: " + ok.error().message());
  }
  const Shape& s = pixels.shape;
  const bool shaped = (s.size() == 4 && s[1] == 3) || (s.size() == 5 && s[1] == 3 && s[2] == 1);
  if (pixels.dtype == DType::kUInt8 || !shaped) {
    return invalid_argument("pixel tensor must be float [B, 3, H, W] in [-1, 1]; got " +
                            std::string(dtype_name(pixels.dtype)) + " " + dims_text(s) +
                            (pixels.dtype == DType::kUInt8 ? " (encode an image instead)" : ""));
  }
  RVAE_TRY(check_sides(s[s.size() - 2], s[s.size() - 1], "pixel tensor"));
  RVAE_ASSIGN_OR_RETURN(const DType dtype, encoder_input_dtype(metadata, *tensors.input));
  const Shape shape = tensors.input->shape.size() == 4
                          ? Shape{s[0], 3, s[s.size() - 2], s[s.size() - 1]}
                          : Shape{s[0], 3, 1, s[s.size() - 2], s[s.size() - 1]};
  RVAE_ASSIGN_OR_RETURN(std::shared_ptr<const Tensor> owner, converted_to(pixels, dtype));
  return finish_encode(metadata, tensors, reshaped(owner ? owner->view() : pixels, shape), owner);
}

}  // namespace rvae::protocol::oip
