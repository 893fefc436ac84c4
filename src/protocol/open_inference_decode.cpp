// Replies of planned decodes and encodes: the output tensor turned into what the caller asked
// for, as the Hugging Face path fills DecodeOutput.
#include <cctype>
#include <limits>
#include <string>

#include "core/try.hpp"
#include "protocol/open_inference.hpp"
#include "protocol/open_inference_internal.hpp"
#include "protocol/protocol_internal.hpp"

namespace rvae::protocol::oip {
namespace {

// One image per batch item and frame, in order, from a UINT8 [B, H, W, 3] / [B, F, H, W, 3]
// or a float [B, 3, H, W] / [B, 3, F, H, W] tensor.
Result<std::vector<Image>> to_images(Tensor&& tensor, const DecodeExpectation& expect,
                                     const ReplyLimits& limits) {
  const std::int64_t frames = expect.frames > 0 ? expect.frames : 1;
  const auto count = static_cast<std::size_t>(expect.batch * frames);
  const auto pixels =
      static_cast<std::size_t>(expect.height) * static_cast<std::size_t>(expect.width);
  if (pixels > limits.max_pixels) {
    return Error(ErrorCode::kResourceExhausted,
                 "decode reply images are " + std::to_string(expect.width) + "x" +
                     std::to_string(expect.height) + " (width x height), above the limit of " +
                     std::to_string(limits.max_pixels) + " pixels");
  }
  const auto make_image = [&](Bytes bytes) {
    Image image;
    image.width = static_cast<int>(expect.width);
    image.height = static_cast<int>(expect.height);
    image.channels = 3;
    image.pixels = std::move(bytes);
    return image;
  };
  const auto storage = [&]() {
    Bytes bytes = limits.image_storage ? limits.image_storage(pixels * 3) : Bytes();
    bytes.resize(pixels * 3);
    return bytes;
  };
  std::vector<Image> images;
  images.reserve(count);
  if (tensor.dtype() == DType::kUInt8) {
    if (count == 1) {
      images.push_back(make_image(std::move(tensor).release_bytes()));
      return images;
    }
    for (std::size_t i = 0; i < count; ++i) {
      const std::uint8_t* begin = tensor.data() + i * pixels * 3;
      Bytes bytes = storage();
      std::copy(begin, begin + pixels * 3, bytes.begin());
      images.push_back(make_image(std::move(bytes)));
    }
    return images;
  }
  // Float planes: channel k of item b, frame f starts at ((b * 3 + k) * F + f) * H * W.
  const std::size_t size = dtype_size(tensor.dtype());
  const auto f_count = static_cast<std::size_t>(frames);
  for (std::size_t b = 0; b < static_cast<std::size_t>(expect.batch); ++b) {
    for (std::size_t f = 0; f < f_count; ++f) {
      Bytes bytes = storage();
      const std::uint8_t* first = tensor.data() + ((b * 3) * f_count + f) * pixels * size;
      internal::planes_to_rgb8(tensor.dtype(), first, f_count * pixels, pixels, bytes.data());
      images.push_back(make_image(std::move(bytes)));
    }
  }
  return images;
}

std::string lower(std::string text) {
  for (char& c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

Result<DecodeOutput> parse_decode_reply(http::HttpResponse&& response, const DecodePlan& plan,
                                        const ReplyLimits& limits,
                                        const InferReplyLimits& infer_limits) {
  RVAE_ASSIGN_OR_RETURN(Tensor tensor,
                        parse_infer_reply(std::move(response), plan.infer, infer_limits));
  return decode_output_of(std::move(tensor), plan, limits);
}

Result<DecodeOutput> decode_output_of(Tensor&& tensor, const DecodePlan& plan,
                                      const ReplyLimits& limits) {
  DecodeOutput out;
  out.type = plan.expect.type;
  switch (plan.expect.type) {
    case OutputType::kFloatTensor:
      out.tensor = std::move(tensor);
      return out;
    case OutputType::kUInt8: {
      RVAE_ASSIGN_OR_RETURN(out.images, to_images(std::move(tensor), plan.expect, limits));
      return out;
    }
    case OutputType::kImage: {
      RVAE_ASSIGN_OR_RETURN(out.images, to_images(std::move(tensor), plan.expect, limits));
      if (out.images.size() != 1) {
        return Error(ErrorCode::kInternal, "internal: an image output planned for several");
      }
      // The server sends pixels; the encoded file the HF path returns is made here.
      Result<Bytes> encoded = plan.expect.image_format == ImageFormat::kPng
                                  ? encode_png(out.images.front())
                                  : encode_jpeg(out.images.front());
      if (!encoded) return std::move(encoded).error();
      out.encoded = std::move(encoded).value();
      return out;
    }
    case OutputType::kMp4:
      break;
  }
  return Error(ErrorCode::kInternal, "internal: MP4 output was planned over this protocol");
}

Result<Tensor> parse_encode_reply(http::HttpResponse&& response, const EncodePlan& plan,
                                  const InferReplyLimits& limits) {
  return parse_infer_reply(std::move(response), plan.infer, limits);
}

bool is_metadata_mismatch(const http::HttpResponse& response) {
  if (response.status != 400) return false;
  // Triton's texts: "inference input 'x' data-type is 'FP32', but model 'm' expects 'FP16'",
  // "unexpected shape for input 'x' for model 'm'. Expected [..], got [..]", "unexpected
  // inference input 'x' ...", "unexpected inference output ...". Others say "datatype".
  const std::string message =
      lower(protocol::internal::summarize_body(response.body, response.header("Content-Type")));
  for (const char* hint :
       {"data-type", "datatype", "data type", "unexpected shape", "unexpected inference input",
        "unexpected inference output", "expected shape", "shape mismatch"}) {
    if (message.find(hint) != std::string::npos) return true;
  }
  return false;
}

ReplyLayout reply_layout(const DecodePlan& plan) {
  const DecodeExpectation& expect = plan.expect;
  ReplyLayout layout;
  layout.type = expect.type;
  if (expect.type == OutputType::kUInt8) {
    const std::int64_t frames = expect.frames > 0 ? expect.frames : 1;
    layout.dtype = DType::kUInt8;
    layout.frames = expect.batch * frames;
    layout.shape = {layout.frames, expect.height, expect.width, 3};
    layout.frame_bytes =
        static_cast<std::uint64_t>(expect.height) * static_cast<std::uint64_t>(expect.width) * 3;
    layout.bytes = layout.frame_bytes * static_cast<std::uint64_t>(layout.frames);
  } else if (expect.type == OutputType::kFloatTensor) {
    layout.dtype = plan.infer.dtype;
    layout.shape = plan.infer.shape;
    // The plan's shape is fully determined and its size was checked when it was made.
    layout.bytes = checked_byte_size(layout.shape, plan.infer.dtype).value_or(0);
  }
  return layout;
}

bool streams_as_received(const DecodePlan& plan) {
  switch (plan.expect.type) {
    case OutputType::kUInt8:
      return plan.infer.dtype == DType::kUInt8;
    case OutputType::kFloatTensor:
      return true;
    case OutputType::kImage:
    case OutputType::kMp4:
      return false;
  }
  return false;
}

}  // namespace rvae::protocol::oip
