// NumPy .npy files: magic, version, header dict, body.
#include <cstddef>
#include <cstdint>

#include "rvae/latent_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto tensor = rvae::parse_npy(data, size);
  if (tensor && tensor->dtype() != rvae::DType::kBFloat16) {
    // Whatever parses serialises and parses back to the same shape.
    auto bytes = rvae::serialize_npy(tensor->view());
    if (!bytes) __builtin_trap();
    auto again = rvae::parse_npy(bytes->data(), bytes->size());
    if (!again || again->shape() != tensor->shape()) __builtin_trap();
  }
  return 0;
}
