#include <string>

#include "protocol/protocol.hpp"
#include "protocol/protocol_internal.hpp"

namespace rvae::protocol {
namespace {

// Generous bound on latent channels (real VAEs use 4 or 16).
constexpr std::int64_t kMaxLatentChannels = 64;

}  // namespace

Result<Tensor> parse_encode_reply(HttpResponse&& response, const EncodeExpectation& expect) {
  auto tensor = parse_tensor_reply(std::move(response));
  if (!tensor) return tensor;
  if (tensor->dtype() == DType::kUInt8) {
    return internal::data_loss("encode reply has dtype uint8; latents must be a float type");
  }
  const Shape& s = tensor->shape();
  const std::string expected =
      "[" + std::to_string(expect.batch) + ",C," + std::to_string(expect.latent_height) + "," +
      std::to_string(expect.latent_width) + "] (or [" + std::to_string(expect.batch) + ",C,1," +
      std::to_string(expect.latent_height) + "," + std::to_string(expect.latent_width) +
      "] from a video model)";
  // A video model (Wan 2.1) encodes an image as the one-frame video it is: [B, C, 1, h, w].
  const bool one_frame = s.size() == 5 && s[2] == 1;
  const std::size_t h = one_frame ? 3 : 2;
  if ((s.size() != 4 && !one_frame) || s[0] != expect.batch || s[h] != expect.latent_height ||
      s[h + 1] != expect.latent_width) {
    return internal::data_loss("encode reply has shape " + shape_to_string(s) +
                               " but the request expects " + expected);
  }
  if (s[1] > kMaxLatentChannels) {
    return internal::data_loss("encode reply has shape " + shape_to_string(s) + " with " +
                               std::to_string(s[1]) + " channels; at most " +
                               std::to_string(kMaxLatentChannels) + " are plausible");
  }
  if (!expect.normalization) return tensor;
  const auto want = static_cast<std::int64_t>(expect.normalization->mean.size());
  if (s[1] != want) {
    return internal::data_loss("encode reply has shape " + shape_to_string(s) + " with " +
                               std::to_string(s[1]) + " channels but the latent statistics have " +
                               std::to_string(want));
  }
  return normalize_latents(tensor->view(), *expect.normalization, DType::kFloat32);
}

}  // namespace rvae::protocol
