#include "codec/png_reader.hpp"

#if defined(RVAE_HAVE_LIBDEFLATE)

#include <libdeflate.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "codec/png_paeth.hpp"

namespace rvae::codec_detail {
namespace {

constexpr std::uint8_t kSignature[8] = {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A};

struct DecompressorFree {
  void operator()(libdeflate_decompressor* d) const noexcept { libdeflate_free_decompressor(d); }
};
using Decompressor = std::unique_ptr<libdeflate_decompressor, DecompressorFree>;

std::uint32_t be32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

bool is_type(const std::uint8_t* p, const char* type) {
  return std::memcmp(p, type, 4) == 0;
}

// Where the IDAT data lies: one span when the encoder wrote a single IDAT, else gathered.
struct IdatRun {
  const std::uint8_t* first = nullptr;
  std::size_t first_size = 0;
  std::size_t chunks = 0;
  std::size_t total = 0;
  bool palette_seen = false;
};

// Walks the chunks after the signature, checking each CRC. False on anything this path leaves
// to stb: a bad or truncated chunk, IDATs not in one run, tRNS (alpha for RGB), a critical chunk
// it does not know (CgBI, ...), no IEND.
bool walk_chunks(const std::uint8_t* data, std::size_t size, IdatRun* run) {
  std::size_t pos = 8;
  bool idat_ended = false;
  while (true) {
    if (size - pos < 12) return false;
    const std::uint32_t length = be32(data + pos);
    if (length > 0x7FFFFFFFu || size - pos - 12 < length) return false;
    const std::uint8_t* type = data + pos + 4;
    const std::uint8_t* body = data + pos + 8;
    if (libdeflate_crc32(0, type, length + std::size_t{4}) != be32(body + length)) return false;
    if (pos == 8 && !is_type(type, "IHDR")) return false;
    if (is_type(type, "IDAT")) {
      if (idat_ended) return false;
      if (run->chunks++ == 0) {
        run->first = body;
        run->first_size = length;
      }
      run->total += length;
    } else {
      if (run->chunks > 0) idat_ended = true;
      if (is_type(type, "IEND")) return run->chunks > 0;
      if (is_type(type, "tRNS")) return false;
      // A suggested palette stb checks (one, before the image data, whole entries); an odd
      // one is left to stb's verdict.
      if (is_type(type, "PLTE")) {
        if (run->palette_seen || run->chunks > 0 || length % 3 != 0 || length == 0 ||
            length > 768) {
          return false;
        }
        run->palette_seen = true;
      }
      const bool critical = (type[0] & 0x20) == 0;
      if (critical && !is_type(type, "IHDR") && !is_type(type, "PLTE")) return false;
      if (is_type(type, "IHDR") && pos != 8) return false;
    }
    pos += std::size_t{12} + length;
  }
}

#if defined(__SSE2__)
// Paeth, one pixel (bpp 3 or 4 bytes) per step in 16-bit lanes, as libpng's SSE2 filters do:
// each pixel depends on the one to its left, so a byte-wise loop runs at the latency of that
// chain three or four times over.
// kBpp is a constant so the 3- or 4-byte copies compile to moves, not calls that spill the
// running pixel to memory.
template <std::size_t kBpp>
__m128i load_pixel(const std::uint8_t* p) {
  std::int32_t v = 0;
  std::memcpy(&v, p, kBpp);
  return _mm_unpacklo_epi8(_mm_cvtsi32_si128(v), _mm_setzero_si128());
}

template <std::size_t kBpp>
void store_pixel(std::uint8_t* p, __m128i v) {
  const std::int32_t packed = _mm_cvtsi128_si32(_mm_packus_epi16(v, v));
  std::memcpy(p, &packed, kBpp);
}

__m128i abs_i16(__m128i x) {
  return _mm_max_epi16(x, _mm_sub_epi16(_mm_setzero_si128(), x));
}

__m128i select(__m128i mask, __m128i then, __m128i otherwise) {
  return _mm_or_si128(_mm_and_si128(mask, then), _mm_andnot_si128(mask, otherwise));
}

template <std::size_t kBpp>
void unpaeth_row(const std::uint8_t* src, const std::uint8_t* prior, std::size_t size,
                 std::uint8_t* dst) {
  __m128i a = _mm_setzero_si128();  // left, unfiltered (none for the first pixel)
  __m128i c = _mm_setzero_si128();  // upper left
  for (std::size_t i = 0; i < size; i += kBpp) {
    const __m128i b = load_pixel<kBpp>(prior + i);
    const __m128i pa_signed = _mm_sub_epi16(b, c);
    const __m128i pb_signed = _mm_sub_epi16(a, c);
    const __m128i pa = abs_i16(pa_signed);
    const __m128i pb = abs_i16(pb_signed);
    const __m128i pc = abs_i16(_mm_add_epi16(pa_signed, pb_signed));
    const __m128i smallest = _mm_min_epi16(pc, _mm_min_epi16(pa, pb));
    const __m128i nearest =
        select(_mm_cmpeq_epi16(pa, smallest), a, select(_mm_cmpeq_epi16(pb, smallest), b, c));
    // Byte-wise add: each lane's high byte is zero in both, so lanes stay in 0..255.
    a = _mm_add_epi8(load_pixel<kBpp>(src + i), nearest);
    store_pixel<kBpp>(dst + i, a);
    c = b;
  }
}
#endif

// Reverses one row's filter from `src` into `dst`; `prior` is the unfiltered row above (zeros
// for the first). False for a filter type above 4.
bool unfilter_row(int type, const std::uint8_t* src, const std::uint8_t* prior, std::size_t size,
                  std::size_t bpp, std::uint8_t* dst) {
  switch (type) {
    case 0:
      std::memcpy(dst, src, size);
      return true;
    case 1:
      std::memcpy(dst, src, bpp);
      for (std::size_t i = bpp; i < size; ++i)
        dst[i] = static_cast<std::uint8_t>(src[i] + dst[i - bpp]);
      return true;
    case 2:
      for (std::size_t i = 0; i < size; ++i)
        dst[i] = static_cast<std::uint8_t>(src[i] + prior[i]);
      return true;
    case 3:
      for (std::size_t i = 0; i < bpp; ++i)
        dst[i] = static_cast<std::uint8_t>(src[i] + (prior[i] >> 1));
      for (std::size_t i = bpp; i < size; ++i)
        dst[i] = static_cast<std::uint8_t>(src[i] + ((dst[i - bpp] + prior[i]) >> 1));
      return true;
    case 4:
#if defined(__SSE2__)
      if (bpp == 3) {
        unpaeth_row<3>(src, prior, size, dst);
        return true;
      }
      if (bpp == 4) {
        unpaeth_row<4>(src, prior, size, dst);
        return true;
      }
#endif
      for (std::size_t i = 0; i < bpp; ++i)
        dst[i] = static_cast<std::uint8_t>(src[i] + prior[i]);
      for (std::size_t i = bpp; i < size; ++i)
        dst[i] = static_cast<std::uint8_t>(src[i] +
                                           paeth_predictor(dst[i - bpp], prior[i], prior[i - bpp]));
      return true;
    default:
      return false;
  }
}

}  // namespace

bool fast_decode_png(const std::uint8_t* data, std::size_t size, int channels,
                     DecodedPixels* out) noexcept {
  if (size < 8 + 25 + 12 || std::memcmp(data, kSignature, 8) != 0) return false;
  const std::uint8_t* ihdr = data + 8;
  if (be32(ihdr) != 13 || !is_type(ihdr + 4, "IHDR")) return false;
  const std::uint32_t width = be32(ihdr + 8);
  const std::uint32_t height = be32(ihdr + 12);
  const int depth = ihdr[16];
  const int colour = ihdr[17];
  const bool layout_taken =
      depth == 8 && ((colour == 2 && channels == 3) || (colour == 6 && channels == 4));
  if (!layout_taken || ihdr[18] != 0 || ihdr[19] != 0 || ihdr[20] != 0) return false;
  if (width == 0 || height == 0 || width > 65535 || height > 65535) return false;
  IdatRun run;
  if (!walk_chunks(data, size, &run)) return false;
  // One decompressor per call, not thread_local (handle_pool.hpp says why) nor pooled: it is
  // one allocation of 12 KiB, about 0.15 us to make and free (rvae_bench,
  // BM_DecoderHandle_libdeflate), nothing beside an image's inflate.
  const Decompressor owned(libdeflate_alloc_decompressor());
  libdeflate_decompressor* decompressor = owned.get();
  if (decompressor == nullptr) return false;

  const std::size_t bpp = static_cast<std::size_t>(channels);
  const std::size_t row_bytes = std::size_t{width} * bpp;
  const std::size_t rows = height;
  try {
    Bytes gathered;
    const std::uint8_t* zlib = run.first;
    if (run.chunks > 1) {
      gathered.reserve(run.total);
      for (std::size_t pos = 8;;) {
        const std::uint32_t length = be32(data + pos);
        if (is_type(data + pos + 4, "IDAT")) {
          gathered.insert(gathered.end(), data + pos + 8, data + pos + 8 + length);
        } else if (is_type(data + pos + 4, "IEND")) {
          break;
        }
        pos += std::size_t{12} + length;
      }
      zlib = gathered.data();
    }
    Bytes filtered(rows * (row_bytes + 1));
    // No actual-size pointer: libdeflate then fails unless the stream fills the buffer exactly.
    if (libdeflate_zlib_decompress(decompressor, zlib, run.total, filtered.data(), filtered.size(),
                                   nullptr) != LIBDEFLATE_SUCCESS) {
      return false;
    }
    // Into the caller's buffer, whose capacity may be a recycled image's.
    Bytes& pixels = out->pixels;
    pixels.resize(rows * row_bytes);
    const Bytes zero_row(row_bytes, 0);
    for (std::size_t y = 0; y < rows; ++y) {
      const std::uint8_t* src = filtered.data() + y * (row_bytes + 1);
      std::uint8_t* dst = pixels.data() + y * row_bytes;
      if (!unfilter_row(src[0], src + 1, y == 0 ? zero_row.data() : dst - row_bytes, row_bytes, bpp,
                        dst)) {
        return false;
      }
    }
    out->width = static_cast<int>(width);
    out->height = static_cast<int>(height);
  } catch (const std::bad_alloc&) {
    return false;
  }
  return true;
}

}  // namespace rvae::codec_detail

#else

namespace rvae::codec_detail {

bool fast_decode_png(const std::uint8_t*, std::size_t, int, DecodedPixels*) noexcept {
  return false;
}

}  // namespace rvae::codec_detail

#endif  // RVAE_HAVE_LIBDEFLATE
