#include <optional>
#include <string>
#include <utility>

#include "core/try.hpp"
#include "protocol/latent_normalization.hpp"
#include "protocol/protocol.hpp"
#include "protocol/protocol_internal.hpp"

namespace rvae::protocol {
namespace {

using internal::invalid_argument;

// The checked normalisation: set in the expectation when per-channel (the client applies it to
// the raw reply), otherwise left to the server's factors.
Result<std::optional<LatentNormalization>> check_common(const EncodeOptions& options) {
  RVAE_TRY(internal::validate_factors(options.scaling_factor, options.shift_factor));
  RVAE_ASSIGN_OR_RETURN(auto norm, normalization_of(options));
  if (options.content_type) {
    // It goes into a header line verbatim: no empty value, no CR/LF or other control bytes.
    if (options.content_type->empty()) return invalid_argument("content_type is empty");
    for (char c : *options.content_type) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte < 0x20 || byte == 0x7F) {
        return invalid_argument("content_type contains a control character");
      }
    }
  }
  if (!is_per_channel(norm)) return std::optional<LatentNormalization>();
  return norm;
}

// Factors for the server, unless the client normalises the reply itself.
void add_factors(internal::QueryBuilder& query, const EncodeOptions& options,
                 const std::optional<LatentNormalization>& client_side) {
  if (!client_side) query.add_factors(options.scaling_factor, options.shift_factor);
}

void add_headers(HttpRequest& http, const EncodeOptions& options) {
  // The reference client sends no Content-Type for encode (PROTOCOL.md §4).
  if (options.content_type) http.headers.push_back({"Content-Type", *options.content_type});
  http.headers.push_back({"Accept", "*/*"});
}

}  // namespace

Result<EncodeRequest> build_encode_request(ImageView image, const EncodeOptions& options) {
  RVAE_ASSIGN_OR_RETURN(auto client_side, check_common(options));
  if (auto ok = image.validate(); !ok) return invalid_argument("image: " + ok.error().message());
  if (image.width % kSpatialCompression != 0 || image.height % kSpatialCompression != 0) {
    return invalid_argument("image size " + std::to_string(image.width) + "x" +
                            std::to_string(image.height) +
                            " (width x height) must be a multiple of 8 on both sides");
  }
  // A VAE encodes RGB; alpha has no meaning to it, so it is dropped here rather than left to
  // whatever the server does with a 4-channel PNG.
  RVAE_ASSIGN_OR_RETURN(auto png,
                        image.channels == 3 ? encode_png(image) : encode_png(to_rgb(image)));

  EncodeRequest request;
  internal::QueryBuilder query;
  add_factors(query, options, client_side);
  request.query = std::move(query).take();
  add_headers(request.http, options);
  request.http.body.append_owned(std::move(png));
  request.expect.normalization = client_side;
  request.expect.batch = 1;
  request.expect.latent_height = image.height / kSpatialCompression;
  request.expect.latent_width = image.width / kSpatialCompression;
  return request;
}

Result<EncodeRequest> build_encode_request(const TensorView& pixels, const EncodeOptions& options) {
  RVAE_ASSIGN_OR_RETURN(auto client_side, check_common(options));
  if (auto ok = pixels.validate(); !ok) return invalid_argument("pixels: " + ok.error().message());
  if (pixels.dtype == DType::kUInt8) {
    return invalid_argument(
        "pixel tensor must be float16, bfloat16 or float32 in [-1, 1]; got uint8 (encode an "
        "Image instead)");
  }
  const Shape& s = pixels.shape;
  if (s.size() != 4 || s[1] != 3) {
    return invalid_argument("pixel tensor must be [B,3,H,W]; got " + shape_to_string(s));
  }
  if (s[2] % kSpatialCompression != 0 || s[3] % kSpatialCompression != 0) {
    return invalid_argument("pixel tensor " + shape_to_string(s) +
                            " needs H and W that are multiples of 8");
  }

  EncodeRequest request;
  internal::QueryBuilder query;
  query.add_shape(s);
  query.add("dtype", dtype_name(pixels.dtype));
  add_factors(query, options, client_side);
  request.query = std::move(query).take();
  add_headers(request.http, options);
  request.http.body.append_borrowed(static_cast<const std::uint8_t*>(pixels.data),
                                    pixels.size_bytes);
  request.expect.normalization = std::move(client_side);
  request.expect.batch = s[0];
  request.expect.latent_height = s[2] / kSpatialCompression;
  request.expect.latent_width = s[3] / kSpatialCompression;
  return request;
}

}  // namespace rvae::protocol
