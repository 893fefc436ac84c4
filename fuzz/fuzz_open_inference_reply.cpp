// Open Inference Protocol replies: a selector byte picks the model metadata parser or the
// inference reply parser (binary form with Inference-Header-Content-Length, or JSON form),
// the latter against an expectation taken from the input, or as the reply of a planned decode
// (images quantised from float pixels, PNG/JPEG encoded here).
#include <cstddef>
#include <cstdint>
#include <vector>

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
  if (selector % 4 == 3) {
    namespace oip = rvae::protocol::oip;
    static const char* const kDatatypes[] = {"FP32", "FP16", "BF16", "UINT8"};
    const std::uint8_t shape_byte = input.byte();
    const bool video = (shape_byte & 1) != 0;
    const std::int64_t batch = 1 + (shape_byte >> 1) % 2;
    const std::int64_t frames = video ? 1 + (shape_byte >> 2) % 3 : 1;
    const std::int64_t h = 1 + input.byte() % 4;
    const std::int64_t w = 1 + input.byte() % 4;
    const std::uint8_t out_byte = input.byte();
    const bool uint8_out = out_byte % 4 == 3;
    oip::ModelMetadata model;
    model.name = "vae";
    model.inputs.push_back({"latent_sample", "FP32",
                            video ? rvae::Shape{-1, 4, -1, -1, -1} : rvae::Shape{-1, 4, -1, -1}});
    rvae::Shape out_shape(video ? 5 : 4, -1);
    if (!uint8_out) out_shape[1] = 3;
    model.outputs.push_back({"sample", kDatatypes[out_byte % 4], out_shape});
    const rvae::Shape latent_shape =
        video ? rvae::Shape{batch, 4, frames, h, w} : rvae::Shape{batch, 4, h, w};
    std::vector<float> latents(static_cast<std::size_t>(batch * 4 * frames * h * w));
    rvae::DecodeOptions options;
    options.output_type = static_cast<rvae::OutputType>((out_byte >> 2) % 3);
    options.image_format = (out_byte & 0x40) ? rvae::ImageFormat::kPng : rvae::ImageFormat::kJpeg;
    options.temporal_compression = 1 + (out_byte >> 7);
    const rvae::TensorView view{latents.data(), latents.size() * 4, latent_shape,
                                rvae::DType::kFloat32};
    auto plan = oip::plan_decode(model, {&model.inputs[0], &model.outputs[0]}, view, options);
    if (!plan) return 0;
    rvae::protocol::ReplyLimits limits;
    limits.max_pixels = 1u << 16;
    auto out = oip::parse_decode_reply(rvae::fuzz::take_response(input), *plan, limits);
    if (out) {
      if (out->type != options.output_type) __builtin_trap();
      for (const auto& image : out->images) {
        if (image.width != plan->expect.width || image.height != plan->expect.height ||
            !image.validate()) {
          __builtin_trap();
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
