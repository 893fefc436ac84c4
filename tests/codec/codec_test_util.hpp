// Helpers for the codec tests: test files, and PNG/JPEG byte streams built by hand so the
// expected pixels are known independently of any decoder.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "rvae/bytes.hpp"
#include "rvae/image.hpp"

namespace rvae::test {

/// Mean absolute difference of the RGB channels of two images of the same size, in levels.
inline double mean_abs_rgb_diff(const Image& a, const Image& b) {
  double sum = 0;
  const std::size_t count = static_cast<std::size_t>(a.width) * static_cast<std::size_t>(a.height);
  for (std::size_t p = 0; p < count; ++p) {
    for (std::size_t c = 0; c < 3; ++c) {
      sum += std::abs(int{a.pixels[p * static_cast<std::size_t>(a.channels) + c]} -
                      int{b.pixels[p * static_cast<std::size_t>(b.channels) + c]});
    }
  }
  return sum / static_cast<double>(count * 3);
}

inline std::string data_path(const std::string& name) {
  return std::string(RVAE_TEST_DATA_DIR) + "/" + name;
}

inline Bytes read_test_file(const std::string& name) {
  std::ifstream in(data_path(name), std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void put_be32(Bytes* out, std::uint32_t value) {
  out->push_back(static_cast<std::uint8_t>(value >> 24));
  out->push_back(static_cast<std::uint8_t>(value >> 16));
  out->push_back(static_cast<std::uint8_t>(value >> 8));
  out->push_back(static_cast<std::uint8_t>(value));
}

inline void put_be16(Bytes* out, std::uint32_t value) {
  out->push_back(static_cast<std::uint8_t>(value >> 8));
  out->push_back(static_cast<std::uint8_t>(value));
}

// CRC-32 as the PNG specification defines it (reflected, polynomial 0xEDB88320).
inline std::uint32_t crc32(const std::uint8_t* data, std::size_t size) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < size; ++i) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return crc ^ 0xFFFFFFFFu;
}

inline std::uint32_t adler32(const Bytes& data) {
  std::uint32_t a = 1;
  std::uint32_t b = 0;
  for (std::uint8_t byte : data) {
    a = (a + byte) % 65521u;
    b = (b + a) % 65521u;
  }
  return (b << 16) | a;
}

// A zlib stream made of stored (uncompressed) deflate blocks.
inline Bytes zlib_stored(const Bytes& raw) {
  Bytes out = {0x78, 0x01};
  std::size_t pos = 0;
  do {
    const std::size_t n = std::min<std::size_t>(raw.size() - pos, 65535);
    const bool final_block = pos + n == raw.size();
    out.push_back(final_block ? 1 : 0);
    out.push_back(static_cast<std::uint8_t>(n & 0xFF));
    out.push_back(static_cast<std::uint8_t>(n >> 8));
    out.push_back(static_cast<std::uint8_t>(~n & 0xFF));
    out.push_back(static_cast<std::uint8_t>((~n >> 8) & 0xFF));
    out.insert(out.end(), raw.begin() + static_cast<std::ptrdiff_t>(pos),
               raw.begin() + static_cast<std::ptrdiff_t>(pos + n));
    pos += n;
  } while (pos < raw.size());
  put_be32(&out, adler32(raw));
  return out;
}

inline void put_chunk(Bytes* out, const char* type, const Bytes& body) {
  put_be32(out, static_cast<std::uint32_t>(body.size()));
  const std::size_t start = out->size();
  out->insert(out->end(), type, type + 4);
  out->insert(out->end(), body.begin(), body.end());
  put_be32(out, crc32(out->data() + start, out->size() - start));
}

inline Bytes png_signature() {
  return {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A};
}

inline Bytes ihdr_body(std::uint32_t width, std::uint32_t height, int depth, int color_type,
                       int interlace = 0) {
  Bytes body;
  put_be32(&body, width);
  put_be32(&body, height);
  body.push_back(static_cast<std::uint8_t>(depth));
  body.push_back(static_cast<std::uint8_t>(color_type));
  body.push_back(0);  // compression
  body.push_back(0);  // filter
  body.push_back(static_cast<std::uint8_t>(interlace));
  return body;
}

struct PngChunk {
  const char* type;
  Bytes body;
};

// A complete PNG. `rows` holds the unfiltered scanlines, each prefixed with filter byte 0.
inline Bytes make_png(std::uint32_t width, std::uint32_t height, int depth, int color_type,
                      const Bytes& rows, const std::vector<PngChunk>& before_idat = {},
                      int interlace = 0) {
  Bytes png = png_signature();
  put_chunk(&png, "IHDR", ihdr_body(width, height, depth, color_type, interlace));
  for (const PngChunk& chunk : before_idat)
    put_chunk(&png, chunk.type, chunk.body);
  put_chunk(&png, "IDAT", zlib_stored(rows));
  put_chunk(&png, "IEND", {});
  return png;
}

// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
inline Bytes pseudo_random_bytes(std::size_t size, std::uint32_t seed) {
  Bytes out(size);
  std::uint32_t state = seed == 0 ? 1 : seed;
  for (auto& byte : out) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    byte = static_cast<std::uint8_t>(state >> 24);
  }
  return out;
}

// An image of deterministic noise (pseudo_random_bytes) with the given layout.
inline Image noise_image(int width, int height, int channels, std::uint32_t seed) {
  Image image;
  image.width = width;
  image.height = height;
  image.channels = channels;
  image.pixels =
      pseudo_random_bytes(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
                              static_cast<std::size_t>(channels),
                          seed);
  return image;
}

}  // namespace rvae::test
