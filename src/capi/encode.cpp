// rvae_encode over rvae::Client::encode.
#include <cstddef>
#include <string>

#include "capi/capi.hpp"

namespace {

using rvae::ErrorCode;
using rvae::capi::fail;

// The size of rvae_encode_params in the first rvae.h, which ended with progress_user_data; an
// older program's struct leaves the fields after it at their defaults (see read_params).
constexpr std::size_t kEncodeParamsV1 =
    RVAE_CAPI_SIZE_THROUGH(rvae_encode_params, progress_user_data);
static_assert(sizeof(void*) != 8 || kEncodeParamsV1 == 80, "the first version's layout moved");
static_assert(rvae::capi::starts_after_padding(kEncodeParamsV1, alignof(rvae_encode_params),
                                               offsetof(rvae_encode_params, tile_mode)));

rvae::Result<rvae::ImageView> image_of(const rvae_image* image, const char* function) {
  auto invalid = [function](const std::string& what) {
    return rvae::Error(ErrorCode::kInvalidArgument, std::string(function) + ": " + what);
  };
  if (image == nullptr) return invalid("image is NULL");
  if (image->data == nullptr) return invalid("image->data is NULL");
  if (image->width < 1 || image->width > 65535 || image->height < 1 || image->height > 65535) {
    return invalid("image is " + std::to_string(image->width) + "x" +
                   std::to_string(image->height) + "; each side must be 1..65535");
  }
  if (image->channels != 3 && image->channels != 4) {
    return invalid("image->channels is " + std::to_string(image->channels) + ", expected 3 or 4");
  }
  // Borrowed: the library reads the caller's pixels during the call, without a copy.
  const std::size_t size = std::size_t{image->width} * image->height * image->channels;
  return rvae::ImageView(static_cast<int>(image->width), static_cast<int>(image->height),
                         static_cast<int>(image->channels), image->data, size);
}

}  // namespace

namespace {

// The preset's factors, when `model` names one (an unknown model is reported by the call the
// params are given to).
void fill_preset_factors(rvae_encode_params* p, const char* model) noexcept {
  try {
    const rvae::ModelPreset* preset = rvae::capi::builtin_presets().find(model);
    if (preset == nullptr) return;  // reported by the call these params are given to
    const rvae::EncodeOptions options = preset->encode_options();
    p->has_scaling_factor = options.scaling_factor ? 1 : 0;
    p->scaling_factor = options.scaling_factor.value_or(0.0);
    p->has_shift_factor = options.shift_factor ? 1 : 0;
    p->shift_factor = options.shift_factor.value_or(0.0);
  } catch (...) {
    // Out of memory building the presets: the defaults stay, and the call reports the model.
  }
}

}  // namespace

extern "C" {

void rvae_encode_params_init_sized(rvae_encode_params* out, std::size_t size, const char* model) {
  rvae_encode_params p{};
  p.model = model;
  if (model != nullptr) fill_preset_factors(&p, model);
  rvae::capi::store_params(p, out, size, kEncodeParamsV1);
}

// For programs built before the sized init: their struct may be the first version's.
void(rvae_encode_params_init)(rvae_encode_params* p, const char* model) {
  rvae_encode_params_init_sized(p, kEncodeParamsV1, model);
}

int rvae_encode(rvae_client* c, const char* endpoint, const rvae_image* image,
                const rvae_encode_params* p, rvae_tensor* out, rvae_error** err) {
  const char* fn = "rvae_encode";
  return rvae::capi::guarded(err, fn, [&] {
    if (out == nullptr) return fail(err, ErrorCode::kInvalidArgument, "rvae_encode: out is NULL");
    *out = rvae_tensor{};
    if (c == nullptr) return fail(err, ErrorCode::kInvalidArgument, "rvae_encode: client is NULL");
    rvae_encode_params params;
    rvae_encode_params_init(&params, nullptr);
    if (rvae::Result<void> read =
            rvae::capi::read_params(p, kEncodeParamsV1, params, fn, "rvae_encode_params_init");
        !read) {
      return fail(err, read.error());
    }
    rvae::Result<rvae::EncodeOptions> options = rvae::capi::encode_options_of(params, fn);
    if (!options) return fail(err, options.error());
    rvae::Result<std::string> url = rvae::capi::resolve_endpoint(endpoint, params.model, false, fn);
    if (!url) return fail(err, url.error());
    rvae::Result<rvae::Endpoint> where =
        rvae::capi::endpoint_of(std::move(*url), rvae::capi::raw_enum(params.protocol),
                                params.input_name, params.output_name, fn);
    if (!where) return fail(err, where.error());
    rvae::Result<rvae::ImageView> pixels = image_of(image, fn);
    if (!pixels) return fail(err, pixels.error());
    rvae::Result<rvae::EncodeOutput> encoded = c->client.encode(*where, *pixels, *options);
    if (!encoded) return fail(err, encoded.error());
    rvae::capi::copy_tensor(encoded->latents, out);
    return rvae::capi::succeed(err);
  });
}

}  // extern "C"
