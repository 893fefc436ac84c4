// The layout of a decode reply, before it is sent and from its headers alone, for replies used as
// they arrive (rvae/reply_stream.hpp).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

#include "core/try.hpp"
#include "protocol/protocol.hpp"
#include "protocol/protocol_internal.hpp"

namespace rvae::protocol {
namespace {

ReplyLayout uint8_layout(const DecodeExpectation& expect, std::int64_t count) {
  ReplyLayout layout;
  layout.type = OutputType::kUInt8;
  layout.dtype = DType::kUInt8;
  layout.shape = {count, expect.height, expect.width, 3};
  layout.frames = count;
  layout.frame_bytes =
      static_cast<std::uint64_t>(expect.height) * static_cast<std::uint64_t>(expect.width) * 3;
  layout.bytes = layout.frame_bytes * static_cast<std::uint64_t>(count);
  return layout;
}

}  // namespace

Result<ReplyLayout> decode_reply_layout(const DecodeExpectation& expect) {
  ReplyLayout layout;
  layout.type = expect.type;
  if (expect.type == OutputType::kImage || expect.type == OutputType::kMp4) return layout;
  const Shape shape = expect.type == OutputType::kUInt8
                          ? Shape{expect.batch * std::max<std::int64_t>(expect.frames, 1),
                                  expect.height, expect.width, 3}
                          : internal::float_reply_shape(expect);
  // The same overflow checks as any tensor's; float32 bounds every float dtype's size.
  auto bytes =
      checked_byte_size(shape, expect.type == OutputType::kUInt8 ? DType::kUInt8 : DType::kFloat32);
  if (!bytes) {
    return Error(ErrorCode::kInvalidArgument,
                 "the decode reply would be impossibly large: " + bytes.error().message());
  }
  if (expect.type == OutputType::kUInt8) return uint8_layout(expect, shape[0]);
  layout.shape = shape;
  layout.bytes = *bytes;
  return layout;
}

Result<ReplyLayout> check_streamed_decode_reply(const HttpResponse& headers,
                                                const DecodeExpectation& expect,
                                                const ReplyLimits& limits) {
  if (headers.status != 200) return error_from_reply(headers);
  if (expect.type == OutputType::kImage || expect.type == OutputType::kMp4) {
    return decode_reply_layout(expect);
  }
  RVAE_ASSIGN_OR_RETURN(TensorHeader header, parse_tensor_header(headers));
  if (expect.type == OutputType::kUInt8) {
    RVAE_TRY(internal::check_uint8_reply(header.shape, header.dtype, expect, limits));
    return uint8_layout(expect, header.shape[0]);
  }
  RVAE_TRY(internal::check_float_reply(header.shape, header.dtype, expect));
  ReplyLayout layout;
  layout.type = OutputType::kFloatTensor;
  layout.dtype = header.dtype;
  layout.shape = std::move(header.shape);
  layout.bytes = header.bytes;
  return layout;
}

}  // namespace rvae::protocol
