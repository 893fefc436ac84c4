// JPEG test files made with libjpeg's encoder in the layouts the split and resumed decodes
// handle, and TurboJPEG's whole-image decode they are checked against. Needs the libjpeg API
// (RVAE_HAVE_JPEG_SPLIT builds).
#pragma once

#include <turbojpeg.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include <jpeglib.h>

#include "codec/image_layout.hpp"
#include "codec/jpeg_resume.hpp"
#include "codec/jpeg_split.hpp"
#include "rvae/bytes.hpp"

namespace rvae::test {

struct Layout {
  const char* name;
  int components = 3;
  int luma_h = 2;  // sampling factors of the first component; the others are 1x1
  int luma_v = 2;
  int restart_rows = 0;  // a restart marker every this many MCU rows (0: none)
  bool progressive = false;
  int quality = 75;
  bool optimize = false;    // Huffman tables fitted to the image (only the codes it uses)
  bool arithmetic = false;  // arithmetic coding instead of Huffman
};

// A photo-like test card: smooth gradients plus noise, so the Huffman data is dense and every
// block differs.
inline std::vector<std::uint8_t> test_card(int width, int height, int components, unsigned seed,
                                           int noise_levels = 40) {
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> noise(-noise_levels, noise_levels);
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(width) * height * components);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < components; ++c) {
        const int base = (x * (c + 1) * 255 / width + y * (3 - c) * 255 / height) / 2;
        pixels[(static_cast<std::size_t>(y) * width + x) * components + c] =
            static_cast<std::uint8_t>(std::clamp(base + noise(random), 0, 255));
      }
    }
  }
  return pixels;
}

// libjpeg's encoder, for the layouts neither stb nor TurboJPEG 2.x writes (restart markers,
// progressive, 4:2:2 and 4:4:0 through the same code path).
inline Bytes compress_pixels(const Layout& layout, int width, int height,
                             const std::vector<std::uint8_t>& pixels) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr errors;
  cinfo.err = jpeg_std_error(&errors);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = static_cast<JDIMENSION>(width);
  cinfo.image_height = static_cast<JDIMENSION>(height);
  cinfo.input_components = layout.components;
  cinfo.in_color_space = layout.components == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, layout.quality, TRUE);
  cinfo.comp_info[0].h_samp_factor = layout.luma_h;
  cinfo.comp_info[0].v_samp_factor = layout.luma_v;
  cinfo.restart_in_rows = layout.restart_rows;
  if (layout.progressive) jpeg_simple_progression(&cinfo);
  cinfo.optimize_coding = layout.optimize ? TRUE : FALSE;
  cinfo.arith_code = layout.arithmetic ? TRUE : FALSE;
  jpeg_start_compress(&cinfo, TRUE);
  const int stride = width * layout.components;
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(pixels.data() + cinfo.next_scanline * stride);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  Bytes out(buffer, buffer + size);
  std::free(buffer);
  return out;
}

inline Bytes compress(const Layout& layout, int width, int height, unsigned seed = 1) {
  return compress_pixels(layout, width, height, test_card(width, height, layout.components, seed));
}

// The reference: TurboJPEG's whole-image decode, as decode_image runs it without a free core.
inline Bytes whole_decode(const Bytes& jpeg, int width, int height) {
  tjhandle handle = tjInitDecompress();
  Bytes rgb(static_cast<std::size_t>(width) * height * 3);
  const int status = tjDecompress2(handle, jpeg.data(), static_cast<unsigned long>(jpeg.size()),
                                   rgb.data(), width, 0, height, TJPF_RGB, TJFLAG_STOPONWARNING);
  tjDestroy(handle);
  if (status != 0) rgb.clear();
  return rgb;
}

inline const Layout kSplittable[] = {
    {"ycc420", 3, 2, 2}, {"ycc444", 3, 1, 1}, {"ycc422", 3, 2, 1},
    {"ycc440", 3, 1, 2}, {"gray", 1, 1, 1},   {"ycc420_q95", 3, 2, 2, 0, false, 95},
};

// Restart intervals: the walker does not follow them, so these decode on one thread.
inline const Layout kWithRestarts[] = {
    {"ycc420_restarts", 3, 2, 2, 1},
    {"ycc444_restarts_every_3_rows", 3, 1, 1, 3},
};

// The header scan_jpeg reads, as decode_image passes it down (the layout's problem aside:
// tests walk truncated and corrupt data too).
inline codec_detail::JpegHeader header_of(const std::uint8_t* data, std::size_t size) {
  return codec_detail::scan_jpeg(data, size).jpeg;
}

inline codec_detail::JpegSplitPlan plan_of(const Bytes& jpeg) {
  return codec_detail::plan_jpeg_split(header_of(jpeg.data(), jpeg.size()));
}

inline bool open_walker(codec_detail::JpegRowScanner* scanner, const std::uint8_t* data,
                        std::size_t size) {
  return scanner->open(data, size, header_of(data, size));
}

// Puts a marker (RST5, in a file without restart markers) into the entropy data at `fraction`
// of the way through the scan: libjpeg then warns of corrupt data.
inline Bytes corrupt_at(Bytes jpeg, double fraction) {
  std::size_t sos = 0;
  for (std::size_t i = 0; i + 1 < jpeg.size(); ++i) {
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xDA) sos = i;
  }
  const std::size_t data_start = sos + 2 + (std::size_t{jpeg[sos + 2]} << 8 | jpeg[sos + 3]);
  const std::size_t data_end = jpeg.size() - 2;
  const std::size_t at =
      data_start + static_cast<std::size_t>(static_cast<double>(data_end - data_start) * fraction);
  const std::size_t start = jpeg[at - 1] == 0xFF ? at + 1 : at;
  jpeg[start] = 0xFF;
  jpeg[start + 1] = 0xD5;
  return jpeg;
}

}  // namespace rvae::test
