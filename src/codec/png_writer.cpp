#include "codec/png_writer.hpp"

#if defined(RVAE_HAVE_LIBDEFLATE)

#include <libdeflate.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "codec/handle_pool.hpp"
#include "codec/png_paeth.hpp"

namespace rvae::codec_detail {
namespace {

constexpr std::uint8_t kSignature[8] = {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A};
constexpr int kMaxLevel = 12;

// A compressor holds hash tables (200 KiB at level 1, 660 KiB at 6, 9 MiB at 12 with libdeflate
// 1.14), which every image of a batch would otherwise allocate and fault in again; the pools
// keep a few per level for the next image. Not thread_local: handle_pool.hpp says why. Beyond
// kPooledPerLevel concurrent encodes at one level, the extra compressors are freed after their
// image, which bounds what the pools hold.
constexpr std::size_t kPooledPerLevel = 4;
using CompressorPool =
    HandlePool<libdeflate_compressor, libdeflate_free_compressor, kPooledPerLevel>;

struct CompressorPools {
  CompressorPool by_level[kMaxLevel + 1];
};

CompressorPool& compressor_pool(int level) noexcept {
  static NeverDestroyed<CompressorPools> pools;
  return pools.get().by_level[level];
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

// The sum of the filtered bytes read as signed values: libpng's heuristic for the filter that
// compresses best.
std::uint64_t cost(const std::uint8_t* row, std::size_t size) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < size; ++i)
    sum += static_cast<std::uint64_t>(std::abs(static_cast<int>(static_cast<std::int8_t>(row[i]))));
  return sum;
}

enum Filter : std::uint8_t { kNone = 0, kSub = 1, kUp = 2, kAverage = 3, kPaeth = 4 };
constexpr int kFilters = 5;

// Filters one row into `dst` (size bytes, no type byte). `prior` is the row above, all zeros for
// the first row as the PNG specification defines it. The first pixel (no left neighbour) is done
// apart so that each filter's main loop has no branch and vectorises.
void filter_row(Filter filter, const std::uint8_t* row, const std::uint8_t* prior, std::size_t size,
                std::size_t bpp, std::uint8_t* dst) {
  const std::size_t stride = std::min(bpp, size);
  switch (filter) {
    case kNone:
      std::memcpy(dst, row, size);
      return;
    case kSub:
      std::memcpy(dst, row, stride);
      for (std::size_t i = stride; i < size; ++i)
        dst[i] = static_cast<std::uint8_t>(row[i] - row[i - stride]);
      return;
    case kUp:
      for (std::size_t i = 0; i < size; ++i)
        dst[i] = static_cast<std::uint8_t>(row[i] - prior[i]);
      return;
    case kAverage:
      for (std::size_t i = 0; i < stride; ++i)
        dst[i] = static_cast<std::uint8_t>(row[i] - (prior[i] >> 1));
      for (std::size_t i = stride; i < size; ++i)
        dst[i] = static_cast<std::uint8_t>(row[i] - ((row[i - stride] + prior[i]) >> 1));
      return;
    case kPaeth:
      for (std::size_t i = 0; i < stride; ++i)  // paeth_predictor(0, b, 0) is b
        dst[i] = static_cast<std::uint8_t>(row[i] - prior[i]);
      for (std::size_t i = stride; i < size; ++i) {
        dst[i] = static_cast<std::uint8_t>(
            row[i] - paeth_predictor(row[i - stride], prior[i], prior[i - stride]));
      }
      return;
  }
}

// Filters one row with every filter into `scratch` (kFilters * size bytes) and returns each
// one's cost in `costs`.
void try_filters(const std::uint8_t* row, const std::uint8_t* prior, std::size_t size,
                 std::size_t bpp, std::uint8_t* scratch, std::uint64_t costs[kFilters]) {
  for (int f = 0; f < kFilters; ++f) {
    std::uint8_t* candidate = scratch + static_cast<std::size_t>(f) * size;
    filter_row(static_cast<Filter>(f), row, prior, size, bpp, candidate);
    costs[f] = cost(candidate, size);
  }
}

Filter cheapest(const std::uint64_t costs[kFilters]) {
  int best = 0;
  for (int f = 1; f < kFilters; ++f)
    if (costs[f] < costs[best]) best = f;
  return static_cast<Filter>(best);
}

// At the fast levels the per-row choice costs a large part of the whole encode: there one
// filter is chosen for the whole image from evenly spaced sample rows (a photo's best filter
// rarely changes from row to row, so the bytes barely grow; BENCHMARKS.md, "Codecs and
// untrusted input"), and only it is applied.
constexpr int kPerImageFilterUpToLevel = 4;
constexpr std::size_t kSampleRows = 32;

Filter choose_image_filter(const std::uint8_t* pixels, std::size_t rows, std::size_t row_bytes,
                           std::size_t bpp, const std::uint8_t* zero_row, std::uint8_t* scratch) {
  std::uint64_t totals[kFilters] = {};
  const std::size_t step = std::max<std::size_t>(1, rows / kSampleRows);
  for (std::size_t y = step / 2; y < rows; y += step) {
    const std::uint8_t* row = pixels + y * row_bytes;
    std::uint64_t costs[kFilters];
    try_filters(row, y == 0 ? zero_row : row - row_bytes, row_bytes, bpp, scratch, costs);
    for (int f = 0; f < kFilters; ++f)
      totals[f] += costs[f];
  }
  return cheapest(totals);
}

// Writes each row's filter type byte and filtered bytes into `filtered`.
void filter_image(const std::uint8_t* pixels, std::size_t rows, std::size_t row_bytes,
                  std::size_t bpp, int level, std::uint8_t* filtered) {
  Bytes scratch(kFilters * row_bytes);
  const Bytes zero_row(row_bytes, 0);
  const bool per_image = level <= kPerImageFilterUpToLevel;
  const Filter image_filter =
      per_image ? choose_image_filter(pixels, rows, row_bytes, bpp, zero_row.data(), scratch.data())
                : kNone;
  for (std::size_t y = 0; y < rows; ++y) {
    const std::uint8_t* row = pixels + y * row_bytes;
    const std::uint8_t* prior = y == 0 ? zero_row.data() : row - row_bytes;
    std::uint8_t* dst = filtered + y * (row_bytes + 1);
    if (per_image) {
      dst[0] = image_filter;
      filter_row(image_filter, row, prior, row_bytes, bpp, dst + 1);
      continue;
    }
    std::uint64_t costs[kFilters];
    try_filters(row, prior, row_bytes, bpp, scratch.data(), costs);
    const Filter best = cheapest(costs);
    dst[0] = best;
    std::memcpy(dst + 1, scratch.data() + static_cast<std::size_t>(best) * row_bytes, row_bytes);
  }
}

}  // namespace

bool deflate_write_png(const std::uint8_t* pixels, int width, int height, int channels, int level,
                       Bytes* out) noexcept {
  if (level < 1 || level > kMaxLevel) return false;
  const CompressorPool::Lease lease =
      compressor_pool(level).acquire([level] { return libdeflate_alloc_compressor(level); });
  libdeflate_compressor* compressor = lease.get();
  if (compressor == nullptr) return false;
  const std::size_t row_bytes =
      static_cast<std::size_t>(width) * static_cast<std::size_t>(channels);
  const std::size_t rows = static_cast<std::size_t>(height);
  try {
    Bytes filtered(rows * (row_bytes + 1));
    filter_image(pixels, rows, row_bytes, static_cast<std::size_t>(channels), level,
                 filtered.data());
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
