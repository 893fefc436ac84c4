// safetensors files: header length, JSON header, data offsets.
#include <cstddef>
#include <cstdint>

#include "rvae/latent_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parsed = rvae::parse_safetensors(data, size);
  if (parsed) {
    // Whatever parses must serialise again (names unique, views valid).
    std::vector<std::pair<std::string, rvae::TensorView>> views;
    for (const auto& named : *parsed)
      views.emplace_back(named.name, named.tensor.view());
    if (!rvae::serialize_safetensors(views)) __builtin_trap();
  }
  return 0;
}
