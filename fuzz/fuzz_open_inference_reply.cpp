// Open Inference Protocol replies: a selector byte picks the model metadata parser or the
// inference reply parser (binary form with Inference-Header-Content-Length, or JSON form),
// the latter against an expectation taken from the input.
#include <cstddef>
#include <cstdint>

#include "protocol/open_inference.hpp"
#include "reply_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rvae::fuzz::FuzzInput input(data, size);
  const std::uint8_t selector = input.byte();
  if (selector % 4 == 0) {
    rvae::http::HttpResponse response = rvae::fuzz::take_response(input);
    auto metadata = rvae::protocol::oip::parse_metadata_reply(std::move(response));
    if (metadata) {
      for (const auto* side : {&metadata->inputs, &metadata->outputs}) {
        if (side->size() > 64) __builtin_trap();
        for (const auto& tensor : *side) {
          if (tensor.shape.size() > 8 || tensor.name.empty()) __builtin_trap();
        }
      }
    }
    return 0;
  }
  rvae::protocol::oip::InferExpectation expect;
  expect.output_name = "sample";
  expect.dtype = static_cast<rvae::DType>(input.byte() % 4);
  const std::size_t rank = 1 + input.byte() % 5;
  for (std::size_t i = 0; i < rank; ++i) {
    const std::uint8_t dim = input.byte();
    expect.shape.push_back(dim == 0xFF ? -1 : 1 + dim % 8);
  }
  rvae::protocol::oip::InferReplyLimits limits;
  limits.max_json_header_bytes = 1 << 16;
  limits.max_json_reply_bytes = 1 << 20;
  rvae::http::HttpResponse response = rvae::fuzz::take_response(input);
  auto tensor = rvae::protocol::oip::parse_infer_reply(std::move(response), expect, limits);
  if (tensor) {
    if (tensor->dtype() != expect.dtype || tensor->shape().size() != expect.shape.size()) {
      __builtin_trap();
    }
    for (std::size_t i = 0; i < rank; ++i) {
      if (expect.shape[i] >= 0 && tensor->shape()[i] != expect.shape[i]) __builtin_trap();
    }
    if (tensor->size_bytes() != tensor->numel() * rvae::dtype_size(tensor->dtype())) {
      __builtin_trap();
    }
  }
  return 0;
}
