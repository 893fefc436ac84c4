// Encode replies: status, shape/dtype headers and the tensor body.
#include <cstddef>
#include <cstdint>

#include "protocol/protocol.hpp"
#include "reply_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rvae::fuzz::FuzzInput input(data, size);
  rvae::protocol::EncodeExpectation expect;
  expect.batch = 1 + input.byte() % 4;
  expect.latent_height = 1 + input.u16() % 256;
  expect.latent_width = 1 + input.u16() % 256;
  rvae::http::HttpResponse response = rvae::fuzz::take_response(input);
  auto tensor = rvae::protocol::parse_encode_reply(std::move(response), expect);
  if (tensor && (tensor->shape().size() != 4 || tensor->shape()[0] != expect.batch)) {
    __builtin_trap();
  }
  return 0;
}
