// Splits one fuzz input into the pieces a target needs, deterministically and without ever
// reading out of bounds, so one byte string drives a parser with several arguments. Used by
// libFuzzer builds and by the gcc replay driver alike (no clang-only headers).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rvae::fuzz {

class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  /// The next byte, or 0 once the input is used up.
  std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  /// The next two bytes, big-endian.
  std::uint32_t u16() {
    const std::uint32_t high = byte();
    return (high << 8) | byte();
  }
  /// The text up to (not including) `separator`, or all that is left when it does not occur.
  std::string_view until(std::string_view separator) {
    const std::string_view rest = remaining();
    const std::size_t at = rest.find(separator);
    if (at == std::string_view::npos) {
      pos_ = size_;
      return rest;
    }
    pos_ += at + separator.size();
    return rest.substr(0, at);
  }
  /// Everything not yet consumed.
  std::string_view remaining() const {
    return {reinterpret_cast<const char*>(data_) + pos_, size_ - pos_};
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

}  // namespace rvae::fuzz
