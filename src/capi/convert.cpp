// Conversions between the C API's structs and the C++ types, in both directions.
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#include "capi/capi.hpp"

namespace rvae::capi {
namespace {

Error invalid(const char* function, const std::string& what) {
  return Error(ErrorCode::kInvalidArgument, std::string(function) + ": " + what);
}

// malloc, because C callers free what the library returns with the library's *_free, and a
// failed allocation must surface as a status, not abort.
void* checked_malloc(std::size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

Result<RequestControl> control_of(int64_t deadline_ms, rvae_cancel_token* cancel,
                                  rvae_progress_fn progress, void* user_data,
                                  const char* function) {
  if (deadline_ms < 0) return invalid(function, "deadline_ms must not be negative");
  RequestControl control;
  if (deadline_ms > 0) control.deadline = std::chrono::milliseconds(deadline_ms);
  if (cancel != nullptr) control.cancel = cancel->token;
  if (progress != nullptr) {
    control.on_progress = [progress, user_data](const TransferProgress& transfer) {
      const rvae_progress p = progress_of(transfer);
      progress(&p, user_data);
    };
  }
  return control;
}

// Frees what copy_decode_output built so far when a later allocation fails.
struct ResultDeleter {
  void operator()(rvae_decode_result* r) const noexcept { rvae_decode_result_free(r); }
};

}  // namespace

rvae_dtype c_dtype(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return RVAE_DTYPE_FLOAT32;
    case DType::kFloat16:
      return RVAE_DTYPE_FLOAT16;
    case DType::kBFloat16:
      return RVAE_DTYPE_BFLOAT16;
    case DType::kUInt8:
      return RVAE_DTYPE_UINT8;
  }
  return RVAE_DTYPE_FLOAT32;
}

rvae_output_type c_output_type(OutputType type) {
  switch (type) {
    case OutputType::kImage:
      return RVAE_OUTPUT_IMAGE;
    case OutputType::kUInt8:
      return RVAE_OUTPUT_UINT8;
    case OutputType::kFloatTensor:
      return RVAE_OUTPUT_FLOAT_TENSOR;
    case OutputType::kMp4:
      return RVAE_OUTPUT_MP4;
  }
  return RVAE_OUTPUT_IMAGE;
}

Result<TensorView> tensor_view_of(const rvae_tensor_view* view, const char* function) {
  if (view == nullptr) return invalid(function, "latents is NULL");
  if (view->ndim < 1 || view->ndim > RVAE_MAX_DIMS) {
    return invalid(function, "latents->ndim is " + std::to_string(view->ndim) + ", expected 1.." +
                                 std::to_string(RVAE_MAX_DIMS));
  }
  if (view->shape == nullptr) return invalid(function, "latents->shape is NULL");
  if (view->data == nullptr) return invalid(function, "latents->data is NULL");
  TensorView out;
  switch (raw_enum(view->dtype)) {
    case RVAE_DTYPE_FLOAT32:
      out.dtype = DType::kFloat32;
      break;
    case RVAE_DTYPE_FLOAT16:
      out.dtype = DType::kFloat16;
      break;
    case RVAE_DTYPE_BFLOAT16:
      out.dtype = DType::kBFloat16;
      break;
    case RVAE_DTYPE_UINT8:
      out.dtype = DType::kUInt8;
      break;
    default:
      return invalid(function, "latents->dtype " + std::to_string(raw_enum(view->dtype)) +
                                   " is not an rvae_dtype");
  }
  out.shape.assign(view->shape, view->shape + view->ndim);
  Result<std::size_t> size = checked_byte_size(out.shape, out.dtype);
  if (!size) return invalid(function, "latents: " + size.error().message());
  out.data = view->data;
  out.size_bytes = *size;
  return out;
}

Result<TilingOptions> tiling_of(const TilingFields& fields, const ModelPreset* preset,
                                const char* function) {
  TilingOptions tiling;
  switch (fields.mode) {
    case RVAE_TILE_AUTO:
      tiling.mode = TileMode::kAuto;
      break;
    case RVAE_TILE_OFF:
      tiling.mode = TileMode::kOff;
      break;
    case RVAE_TILE_ON:
      tiling.mode = TileMode::kOn;
      break;
    default:
      return invalid(function, "params->tile_mode " + std::to_string(fields.mode) +
                                   " is not an rvae_tile_mode");
  }
  if (fields.tile_size < 0) return invalid(function, "params->tile_size must not be negative");
  tiling.tile_size = fields.tile_size;
  // 0 keeps the default overlap; RVAE_TILE_NONE asks for abutting tiles (the C++ 0).
  if (fields.overlap < RVAE_TILE_NONE) {
    return invalid(function, "params->tile_overlap must be positive, 0 or RVAE_TILE_NONE");
  }
  if (fields.overlap == RVAE_TILE_NONE) tiling.overlap = 0;
  if (fields.overlap > 0) tiling.overlap = fields.overlap;
  if (fields.max_image_side < 0) {
    return invalid(function, "params->max_image_side must not be negative");
  }
  // The endpoint a preset names has that preset's cap, unless the caller knows better.
  if (fields.max_image_side > 0) {
    tiling.max_image_side = fields.max_image_side;
  } else if (preset != nullptr) {
    tiling.max_image_side = preset->max_image_side;
  }
  if (fields.colour_reference != 0 && fields.colour_reference != 1 &&
      fields.colour_reference != RVAE_TILE_NONE) {
    return invalid(function, "params->tile_colour_reference must be 0, 1 or RVAE_TILE_NONE");
  }
  tiling.colour_reference = fields.colour_reference != RVAE_TILE_NONE;
  if (fields.max_in_flight > 0) tiling.max_in_flight = fields.max_in_flight;
  return tiling;
}

// A per-channel model's statistics, which the params cannot hold, unless the caller gave scalar
// factors (rvae.h, rvae_decode_params_init_sized).
template <typename Options>
void apply_statistics(const ModelPreset* preset, bool explicit_factors, Options& options) {
  if (preset == nullptr || !preset->per_channel() || explicit_factors) return;
  options.latents_mean = preset->latents_mean;
  options.latents_std = preset->latents_std;
  if (preset->scaling_factor != 1.0) options.scaling_factor = preset->scaling_factor;
}

Result<DecodeOptions> decode_options_of(const rvae_decode_params& p, const char* function) {
  const ModelPreset* preset = nullptr;
  if (p.model != nullptr) {
    Result<const ModelPreset*> found = find_model(p.model, function);
    if (!found) return found.error();
    preset = *found;
  }
  DecodeOptions options;
  Result<TilingOptions> tiling = tiling_of(tiling_fields_of(p), preset, function);
  if (!tiling) return tiling.error();
  options.tiling = std::move(*tiling);
  switch (raw_enum(p.output_type)) {
    case RVAE_OUTPUT_IMAGE:
      options.output_type = OutputType::kImage;
      break;
    case RVAE_OUTPUT_UINT8:
      options.output_type = OutputType::kUInt8;
      break;
    case RVAE_OUTPUT_FLOAT_TENSOR:
      options.output_type = OutputType::kFloatTensor;
      break;
    case RVAE_OUTPUT_MP4:
      options.output_type = OutputType::kMp4;
      break;
    default:
      return invalid(function, "params->output_type " + std::to_string(raw_enum(p.output_type)) +
                                   " is not an rvae_output_type");
  }
  switch (raw_enum(p.image_format)) {
    case RVAE_IMAGE_JPEG:
      options.image_format = ImageFormat::kJpeg;
      break;
    case RVAE_IMAGE_PNG:
      options.image_format = ImageFormat::kPng;
      break;
    default:
      return invalid(function, "params->image_format " + std::to_string(raw_enum(p.image_format)) +
                                   " is not an rvae_image_format");
  }
  if (p.has_scaling_factor) options.scaling_factor = p.scaling_factor;
  if (p.has_shift_factor) options.shift_factor = p.shift_factor;
  apply_statistics(preset, p.has_scaling_factor || p.has_shift_factor, options);
  if (p.height < 0 || p.width < 0) return invalid(function, "params->height/width are negative");
  if (p.height > 0) options.height = p.height;
  if (p.width > 0) options.width = p.width;
  if (p.temporal_compression < 1) {
    return invalid(function, "params->temporal_compression must be at least 1");
  }
  options.temporal_compression = p.temporal_compression;
  Result<RequestControl> control =
      control_of(p.deadline_ms, p.cancel, p.progress, p.progress_user_data, function);
  if (!control) return control.error();
  options.control = std::move(*control);
  Result<ReplyStream> stream = stream_of(p, function);
  if (!stream) return stream.error();
  options.stream = std::move(*stream);
  return options;
}

Result<EncodeOptions> encode_options_of(const rvae_encode_params& p, const char* function) {
  const ModelPreset* preset = nullptr;
  if (p.model != nullptr) {
    Result<const ModelPreset*> found = find_model(p.model, function);
    if (!found) return found.error();
    preset = *found;
  }
  EncodeOptions options;
  Result<TilingOptions> tiling = tiling_of(tiling_fields_of(p), preset, function);
  if (!tiling) return tiling.error();
  options.tiling = std::move(*tiling);
  if (p.has_scaling_factor) options.scaling_factor = p.scaling_factor;
  if (p.has_shift_factor) options.shift_factor = p.shift_factor;
  apply_statistics(preset, p.has_scaling_factor || p.has_shift_factor, options);
  Result<RequestControl> control =
      control_of(p.deadline_ms, p.cancel, p.progress, p.progress_user_data, function);
  if (!control) return control.error();
  options.control = std::move(*control);
  return options;
}

rvae_progress progress_of(const TransferProgress& transfer) noexcept {
  rvae_progress p{};
  p.bytes_sent = transfer.uploaded;
  p.bytes_to_send = transfer.upload_total;
  p.bytes_received = transfer.downloaded;
  p.bytes_to_receive = transfer.download_total;
  p.items_total = 1;
  return p;
}

void copy_image(const Image& image, rvae_image* out) {
  void* data = checked_malloc(image.pixels.size());
  std::memcpy(data, image.pixels.data(), image.pixels.size());
  out->width = static_cast<uint32_t>(image.width);
  out->height = static_cast<uint32_t>(image.height);
  out->channels = static_cast<uint32_t>(image.channels);
  out->data = static_cast<uint8_t*>(data);
}

void copy_tensor(const Tensor& tensor, rvae_tensor* out) {
  // Replies are parsed with at most kMaxDims dims; more would be a library bug.
  if (tensor.shape().size() > RVAE_MAX_DIMS) throw std::length_error("tensor has too many dims");
  void* data = checked_malloc(tensor.size_bytes());
  std::memcpy(data, tensor.data(), tensor.size_bytes());
  *out = rvae_tensor{};
  out->data = data;
  out->ndim = static_cast<int>(tensor.shape().size());
  for (std::size_t i = 0; i < tensor.shape().size(); ++i)
    out->shape[i] = tensor.shape()[i];
  out->dtype = c_dtype(tensor.dtype());
}

rvae_decode_result* copy_decode_output(const DecodeOutput& output, bool streamed) {
  std::unique_ptr<rvae_decode_result, ResultDeleter> result(
      static_cast<rvae_decode_result*>(std::calloc(1, sizeof(rvae_decode_result))));
  if (!result) throw std::bad_alloc();
  result->type = c_output_type(output.type);
  if (!output.images.empty()) {
    result->images =
        static_cast<rvae_image*>(std::calloc(output.images.size(), sizeof(rvae_image)));
    if (result->images == nullptr) throw std::bad_alloc();
    for (const Image& image : output.images) {
      copy_image(image, &result->images[result->image_count]);
      ++result->image_count;  // counted only once allocated, so the deleter frees exactly these
    }
  }
  if (!output.tensor.empty()) copy_tensor(output.tensor, &result->tensor);
  if (!output.encoded.empty()) {
    result->bytes = static_cast<uint8_t*>(checked_malloc(output.encoded.size()));
    std::memcpy(result->bytes, output.encoded.data(), output.encoded.size());
    result->bytes_size = output.encoded.size();
  }
  if (streamed) {
    result->streamed = 1;
    result->frames_delivered = output.delivered.frames;
    result->bytes_delivered = output.delivered.bytes;
    result->first_delivery_us = output.delivered.first_delivery.count();
    result->has_dtype = output.layout.dtype ? 1 : 0;
    result->dtype = output.layout.dtype ? c_dtype(*output.layout.dtype) : RVAE_DTYPE_FLOAT32;
  }
  return result.release();
}

}  // namespace rvae::capi

extern "C" {

void rvae_image_free(rvae_image* img) {
  if (img == nullptr) return;
  std::free(img->data);
  *img = rvae_image{};
}

void rvae_tensor_free(rvae_tensor* t) {
  if (t == nullptr) return;
  std::free(t->data);
  *t = rvae_tensor{};
}

void rvae_decode_result_free(rvae_decode_result* r) {
  if (r == nullptr) return;
  for (std::size_t i = 0; i < r->image_count; ++i)
    rvae_image_free(&r->images[i]);
  std::free(r->images);
  rvae_tensor_free(&r->tensor);
  std::free(r->bytes);
  std::free(r);
}

}  // extern "C"
