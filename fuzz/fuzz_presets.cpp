// User preset files: JSON merged into the built-in registry.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "rvae/presets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rvae::PresetRegistry registry = rvae::PresetRegistry::builtin();
  const auto merged =
      registry.merge_json(std::string_view(reinterpret_cast<const char*>(data), size));
  static_cast<void>(merged);
  return 0;
}
