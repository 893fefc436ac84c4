#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include "codec/image_probe.hpp"
#include "core/try.hpp"
#include "protocol/protocol.hpp"
#include "protocol/protocol_internal.hpp"

namespace rvae::protocol {
namespace {

using internal::data_loss;

// Image::validate's limit per side.
constexpr std::int64_t kMaxImageSide = 65535;

std::string size_text(std::int64_t width, std::int64_t height) {
  return std::to_string(width) + "x" + std::to_string(height) + " (width x height)";
}

// The reply's format may differ from the requested image_format: like the upstream client, the
// image is identified by its magic bytes and either format is accepted.
Result<DecodeOutput> parse_image_reply(HttpResponse&& response, const DecodeExpectation& expect,
                                       const ReplyLimits& limits) {
  Bytes& body = response.body;
  if (!sniff_image_format(body.data(), body.size())) {
    return data_loss("decode reply is not a PNG or JPEG image; it is " +
                     internal::describe_body(body));
  }
  // The header's dimensions are checked against the request first, so an image declaring
  // far more pixels than was asked for costs a header read, not its decode. The decode then
  // takes that scan, not a second one.
  const auto scanned = codec_detail::scan_image(body.data(), body.size());
  if (const codec_detail::ImageLayout& declared = scanned->layout;
      declared.has_dimensions &&
      (declared.width != expect.width || declared.height != expect.height)) {
    return data_loss("decode reply image is " + size_text(declared.width, declared.height) +
                     ", expected " + size_text(expect.width, expect.height));
  }
  ImageDecodeOptions options;
  options.max_pixels = limits.max_pixels;
  options.max_threads = limits.decode_threads;
  Bytes storage;
  if (limits.image_storage && expect.width > 0 && expect.height > 0 &&
      static_cast<std::uint64_t>(expect.width) * static_cast<std::uint64_t>(expect.height) <=
          limits.max_pixels) {
    storage = limits.image_storage(static_cast<std::size_t>(expect.width) *
                                   static_cast<std::size_t>(expect.height) * 3);
  }
  auto image = codec_detail::decode_scanned_image(body.data(), body.size(), *scanned, options,
                                                  std::move(storage));
  if (!image) {
    // Corrupt bytes from the server are a broken reply, not a bad argument of the caller.
    const ErrorCode code = image.error().code() == ErrorCode::kInvalidArgument
                               ? ErrorCode::kDataLoss
                               : image.error().code();
    return Error(code, "decode reply image: " + image.error().message());
  }
  if (image->width != expect.width || image->height != expect.height) {
    return data_loss("decode reply image is " + size_text(image->width, image->height) +
                     ", expected " + size_text(expect.width, expect.height));
  }
  DecodeOutput out;
  out.type = OutputType::kImage;
  out.images.push_back(std::move(*image));
  out.encoded = std::move(body);
  return out;
}

}  // namespace

namespace internal {

Result<void> check_uint8_reply(const Shape& shape, DType dtype, const DecodeExpectation& expect,
                               const ReplyLimits& limits) {
  if (dtype != DType::kUInt8) {
    return data_loss("decode reply has dtype " + std::string(dtype_name(dtype)) +
                     " but uint8 pixels were asked for");
  }
  const std::int64_t per_item = expect.frames > 0 ? expect.frames : 1;
  if (expect.batch <= 0 || expect.batch > std::numeric_limits<std::int64_t>::max() / per_item) {
    return Error(ErrorCode::kInternal, "decode expectation has an impossible batch size");
  }
  const std::int64_t count = expect.batch * per_item;
  if (shape != Shape{count, expect.height, expect.width, 3}) {
    return data_loss("decode reply has shape " + shape_to_string(shape) +
                     " but the request expects " +
                     shape_to_string({count, expect.height, expect.width, 3}));
  }
  if (expect.height > kMaxImageSide || expect.width > kMaxImageSide) {
    return Error(ErrorCode::kResourceExhausted,
                 "decode reply images are " + size_text(expect.width, expect.height) +
                     "; images above 65535 pixels per side are not supported");
  }
  // Both sides are at most 65535, so the product cannot overflow.
  if (static_cast<std::uint64_t>(expect.height * expect.width) > limits.max_pixels) {
    return Error(ErrorCode::kResourceExhausted,
                 "decode reply images are " + size_text(expect.width, expect.height) +
                     ", above the limit of " + std::to_string(limits.max_pixels) + " pixels");
  }
  return {};
}

Shape float_reply_shape(const DecodeExpectation& expect) {
  return expect.frames > 0 ? Shape{expect.batch, 3, expect.frames, expect.height, expect.width}
                           : Shape{expect.batch, 3, expect.height, expect.width};
}

Result<void> check_float_reply(const Shape& shape, DType dtype, const DecodeExpectation& expect) {
  if (dtype == DType::kUInt8) {
    return data_loss("decode reply has dtype uint8 but the raw float decoder output was asked for");
  }
  const Shape expected = float_reply_shape(expect);
  if (shape != expected) {
    return data_loss("decode reply has shape " + shape_to_string(shape) +
                     " but the request expects " + shape_to_string(expected));
  }
  return {};
}

}  // namespace internal

namespace {

Result<DecodeOutput> parse_uint8_reply(HttpResponse&& response, const DecodeExpectation& expect,
                                       const ReplyLimits& limits) {
  RVAE_ASSIGN_OR_RETURN(auto tensor, parse_tensor_reply(std::move(response)));
  RVAE_TRY(internal::check_uint8_reply(tensor.shape(), tensor.dtype(), expect, limits));
  const std::int64_t count = tensor.shape()[0];

  DecodeOutput out;
  out.type = OutputType::kUInt8;
  const auto make_image = [&](Bytes pixels) {
    Image image;
    image.width = static_cast<int>(expect.width);
    image.height = static_cast<int>(expect.height);
    image.channels = 3;
    image.pixels = std::move(pixels);
    return image;
  };
  if (count == 1) {
    out.images.push_back(make_image(std::move(tensor).release_bytes()));
    return out;
  }
  const auto image_bytes = static_cast<std::size_t>(expect.height * expect.width * 3);
  out.images.reserve(static_cast<std::size_t>(count));
  const std::uint8_t* data = tensor.data();
  for (std::int64_t i = 0; i < count; ++i) {
    const std::uint8_t* begin = data + static_cast<std::size_t>(i) * image_bytes;
    out.images.push_back(make_image(Bytes(begin, begin + image_bytes)));
  }
  return out;
}

Result<DecodeOutput> parse_float_reply(HttpResponse&& response, const DecodeExpectation& expect) {
  RVAE_ASSIGN_OR_RETURN(auto tensor, parse_tensor_reply(std::move(response)));
  RVAE_TRY(internal::check_float_reply(tensor.shape(), tensor.dtype(), expect));
  DecodeOutput out;
  out.type = OutputType::kFloatTensor;
  out.tensor = std::move(tensor);
  return out;
}

Result<DecodeOutput> parse_mp4_reply(HttpResponse&& response) {
  Bytes& body = response.body;
  // Every MP4 file starts with an `ftyp` box: 4 bytes of size, then the type.
  if (body.size() < 8 || std::memcmp(body.data() + 4, "ftyp", 4) != 0) {
    return data_loss("decode reply is not an MP4 file (no 'ftyp' box at byte 4); it is " +
                     internal::describe_body(body));
  }
  DecodeOutput out;
  out.type = OutputType::kMp4;
  out.encoded = std::move(body);
  return out;
}

}  // namespace

Result<DecodeOutput> parse_decode_reply(HttpResponse&& response, const DecodeExpectation& expect,
                                        const ReplyLimits& limits) {
  if (response.status != 200) return error_from_reply(response);
  switch (expect.type) {
    case OutputType::kImage:
      return parse_image_reply(std::move(response), expect, limits);
    case OutputType::kUInt8:
      return parse_uint8_reply(std::move(response), expect, limits);
    case OutputType::kFloatTensor:
      return parse_float_reply(std::move(response), expect);
    case OutputType::kMp4:
      return parse_mp4_reply(std::move(response));
  }
  return Error(ErrorCode::kInternal, "decode expectation has an unknown output type");
}

}  // namespace rvae::protocol
