// Decode replies: status, headers (shape, dtype, content type) and body, for each output type,
// against an expectation taken from the input.
#include <cstddef>
#include <cstdint>

#include "protocol/protocol.hpp"
#include "reply_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rvae::fuzz::FuzzInput input(data, size);
  rvae::protocol::DecodeExpectation expect;
  const std::uint8_t type = input.byte();
  expect.type = static_cast<rvae::OutputType>(type % 4);
  expect.batch = 1 + input.byte() % 4;
  expect.frames = input.byte() % 3;
  expect.height = 1 + input.u16() % 1024;
  expect.width = 1 + input.u16() % 1024;
  rvae::protocol::ReplyLimits limits;
  limits.max_pixels = 1u << 20;
  rvae::http::HttpResponse response = rvae::fuzz::take_response(input);
  auto out = rvae::protocol::parse_decode_reply(std::move(response), expect, limits);
  if (out && out->type == rvae::OutputType::kImage) {
    for (const auto& image : out->images) {
      if (image.width != expect.width || image.height != expect.height || !image.validate()) {
        __builtin_trap();
      }
    }
  }
  return 0;
}
