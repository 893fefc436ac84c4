// Reply bodies: never grown past the reply cap.
#pragma once

#include <cstddef>
#include <cstdint>

#include "rvae/bytes.hpp"

namespace rvae::transport {

/// Appends `size` bytes to `body` unless that would take it past `cap` (then false, nothing
/// appended). Growth doubles the capacity but never beyond `cap`, so a reply without a
/// Content-Length holds at most `cap` bytes (plus the one chunk being copied).
bool append_capped(Bytes& body, const std::uint8_t* data, std::size_t size, std::size_t cap);

}  // namespace rvae::transport
