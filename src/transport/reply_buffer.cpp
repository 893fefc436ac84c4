#include "transport/reply_buffer.hpp"

#include <algorithm>

namespace rvae::transport {

bool append_capped(Bytes& body, const std::uint8_t* data, std::size_t size, std::size_t cap) {
  if (size > cap || body.size() > cap - size) return false;
  const std::size_t needed = body.size() + size;
  if (needed > body.capacity()) {
    const std::size_t doubled =
        body.capacity() > cap / 2 ? cap : std::max(body.capacity() * 2, std::size_t{4096});
    body.reserve(std::min(cap, std::max(needed, doubled)));
  }
  body.insert(body.end(), data, data + size);
  return true;
}

}  // namespace rvae::transport
