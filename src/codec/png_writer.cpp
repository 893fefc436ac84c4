#include "codec/png_writer.hpp"

#if defined(RVAE_HAVE_LIBDEFLATE)

#include <libdeflate.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

namespace rvae::codec_detail {
namespace {

constexpr std::uint8_t kSignature[8] = {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A};
constexpr int kMaxLevel = 12;

struct CompressorFree {
  void operator()(libdeflate_compressor* c) const noexcept { libdeflate_free_compressor(c); }
};
using Compressor = std::unique_ptr<libdeflate_compressor, CompressorFree>;

// A compressor holds hash tables of several hundred KiB; keep one per thread and level instead
// of allocating it for every image of a batch.
libdeflate_compressor* thread_compressor(int level) noexcept {
  thread_local Compressor compressors[kMaxLevel + 1];
  Compressor& slot = compressors[level];
  if (!slot) slot.reset(libdeflate_alloc_compressor(level));
  return slot.get();
}

std::uint8_t* put_be32(std::uint8_t* p, std::uint32_t value) {
  p[0] = static_cast<std::uint8_t>(value >> 24);
  p[1] = static_cast<std::uint8_t>(value >> 16);
  p[2] = static_cast<std::uint8_t>(value >> 8);
  p[3] = static_cast<std::uint8_t>(value);
  return p + 4;
}

// Writes length, type, `body_size` bytes already at p + 8, and the CRC over type and body.
std::uint8_t* finish_chunk(std::uint8_t* p, const char* type, std::size_t body_size) {
  put_be32(p, static_cast<std::uint32_t>(body_size));
  std::memcpy(p + 4, type, 4);
  const std::uint32_t crc = libdeflate_crc32(0, p + 4, 4 + body_size);
  return put_be32(p + 8 + body_size, crc);
}

// Branch-free, so the loop below vectorises: the predictor of the three closest to a + b - c.
inline int paeth(int a, int b, int c) {
  const int pa = std::abs(b - c);
  const int pb = std::abs(a - c);
  const int pc = std::abs(a + b - 2 * c);
  const int b_or_c = pb <= pc ? b : c;
  return pa <= pb && pa <= pc ? a : b_or_c;
}

// The sum of the filtered bytes read as signed values: libpng's heuristic for the filter that
// compresses best.
std::uint64_t cost(const std::uint8_t* row, std::size_t size) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < size; ++i)
    sum += static_cast<std::uint64_t>(std::abs(static_cast<int>(static_cast<std::int8_t>(row[i]))));
  return sum;
}

// Filters one row with each of Sub, Up, Average and Paeth into `scratch` and copies the
// cheapest (None included), with its type byte, to `dst`. `prior` is the row above, all zeros
// for the first row as the PNG specification defines it. The first pixel (no left neighbour)
// is done apart so that each filter's main loop has no branch and vectorises.
void filter_row(const std::uint8_t* row, const std::uint8_t* prior, std::size_t size, int bpp,
                std::uint8_t* scratch, std::uint8_t* dst) {
  const std::size_t stride = std::min(static_cast<std::size_t>(bpp), size);
  std::uint8_t* const sub = scratch;
  std::uint8_t* const up = scratch + size;
  std::uint8_t* const average = scratch + 2 * size;
  std::uint8_t* const paeth_row = scratch + 3 * size;
  for (std::size_t i = 0; i < stride; ++i) {
    sub[i] = row[i];
    up[i] = static_cast<std::uint8_t>(row[i] - prior[i]);
    average[i] = static_cast<std::uint8_t>(row[i] - (prior[i] >> 1));
    paeth_row[i] = static_cast<std::uint8_t>(row[i] - prior[i]);  // paeth(0, b, 0) is b
  }
  for (std::size_t i = stride; i < size; ++i)
    sub[i] = static_cast<std::uint8_t>(row[i] - row[i - stride]);
  for (std::size_t i = stride; i < size; ++i)
    up[i] = static_cast<std::uint8_t>(row[i] - prior[i]);
  for (std::size_t i = stride; i < size; ++i)
    average[i] = static_cast<std::uint8_t>(row[i] - ((row[i - stride] + prior[i]) >> 1));
  for (std::size_t i = stride; i < size; ++i) {
    paeth_row[i] =
        static_cast<std::uint8_t>(row[i] - paeth(row[i - stride], prior[i], prior[i - stride]));
  }
  const std::uint8_t* candidates[5] = {row, sub, up, average, paeth_row};
  int best = 0;
  std::uint64_t best_cost = cost(row, size);
  for (int type = 1; type <= 4; ++type) {
    const std::uint64_t c = cost(candidates[type], size);
    if (c < best_cost) {
      best = type;
      best_cost = c;
    }
  }
  dst[0] = static_cast<std::uint8_t>(best);
  std::memcpy(dst + 1, candidates[best], size);
}

}  // namespace

bool deflate_write_png(const std::uint8_t* pixels, int width, int height, int channels, int level,
                       Bytes* out) noexcept {
  if (level < 1 || level > kMaxLevel) return false;
  libdeflate_compressor* compressor = thread_compressor(level);
  if (compressor == nullptr) return false;
  const std::size_t row_bytes =
      static_cast<std::size_t>(width) * static_cast<std::size_t>(channels);
  const std::size_t rows = static_cast<std::size_t>(height);
  try {
    Bytes filtered(rows * (row_bytes + 1));
    Bytes scratch(4 * row_bytes);
    const Bytes zero_row(row_bytes, 0);
    for (std::size_t y = 0; y < rows; ++y) {
      const std::uint8_t* row = pixels + y * row_bytes;
      filter_row(row, y == 0 ? zero_row.data() : row - row_bytes, row_bytes, channels,
                 scratch.data(), filtered.data() + y * (row_bytes + 1));
    }
    const std::size_t bound = libdeflate_zlib_compress_bound(compressor, filtered.size());
    const std::size_t start = out->size();
    // Signature, IHDR (12 + 13), IDAT header and CRC (12), IEND (12).
    out->resize(start + 8 + 25 + 12 + bound + 12);
    std::uint8_t* p = out->data() + start;
    std::memcpy(p, kSignature, sizeof(kSignature));
    p += sizeof(kSignature);
    std::uint8_t* body = put_be32(put_be32(p + 8, static_cast<std::uint32_t>(width)),
                                  static_cast<std::uint32_t>(height));
    body[0] = 8;                      // bit depth
    body[1] = channels == 4 ? 6 : 2;  // colour type: RGBA or RGB
    body[2] = body[3] = body[4] = 0;  // deflate, adaptive filtering, no interlace
    p = finish_chunk(p, "IHDR", 13);
    const std::size_t compressed =
        libdeflate_zlib_compress(compressor, filtered.data(), filtered.size(), p + 8, bound);
    if (compressed == 0) return false;  // cannot happen with the bound's room
    p = finish_chunk(p, "IDAT", compressed);
    p = finish_chunk(p, "IEND", 0);
    out->resize(static_cast<std::size_t>(p - out->data()));
  } catch (const std::bad_alloc&) {
    return false;
  }
  return true;
}

}  // namespace rvae::codec_detail

#endif  // RVAE_HAVE_LIBDEFLATE
