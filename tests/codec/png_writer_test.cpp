// The PNG writer behind encode_png: bit-exact through stb (decode_image) and, when the tests
// are built with it, libpng, and PIL when installed; well-formed chunks; per-row filters; both
// compression settings.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "codec/codec_test_util.hpp"
#include "codec/stb_bridge.hpp"
#include "rvae/image.hpp"
#include "support/temp_dir.hpp"

#if defined(RVAE_HAVE_LIBDEFLATE)
#include <libdeflate.h>
#endif
#if defined(RVAE_TEST_HAVE_LIBPNG)
#include <png.h>
#endif

namespace rvae {
namespace {

using test::read_test_file;

Image load(const char* file) {
  const Bytes bytes = read_test_file(file);
  return decode_image(bytes.data(), bytes.size()).value();
}

// Smooth gradients with an edge and a noisy band, so every filter type has rows it wins.
Image mixed_image(int width, int height, int channels) {
  Image image;
  image.width = width;
  image.height = height;
  image.channels = channels;
  image.pixels.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
                      static_cast<std::size_t>(channels));
  const Bytes noise = test::pseudo_random_bytes(image.pixels.size(), 7);
  std::size_t i = 0;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < channels; ++c, ++i) {
        int value = 0;
        if (y < height / 4)
          value = x * 3 + c;  // horizontal gradient
        else if (y < height / 2)
          value = y * 5 + c * 40;  // vertical gradient
        else if (y < 3 * height / 4)
          value = (x + y) * 2 + c * 9;  // diagonal
        else
          value = noise[i];
        image.pixels[i] = static_cast<std::uint8_t>(value);
      }
    }
  }
  return image;
}

std::vector<Image> cases() {
  return {load("astronaut.png"),  load("logo.png"),     mixed_image(64, 48, 3),
          mixed_image(31, 17, 4), mixed_image(1, 1, 3), mixed_image(1, 9, 4),
          mixed_image(9, 1, 3)};
}

std::string describe(const Image& image) {
  return std::to_string(image.width) + "x" + std::to_string(image.height) + "x" +
         std::to_string(image.channels);
}

std::uint32_t be32(const Bytes& bytes, std::size_t pos) {
  return (std::uint32_t{bytes[pos]} << 24) | (std::uint32_t{bytes[pos + 1]} << 16) |
         (std::uint32_t{bytes[pos + 2]} << 8) | std::uint32_t{bytes[pos + 3]};
}

struct Chunk {
  std::string type;
  Bytes body;
};

// Splits a PNG into chunks, checking each CRC with the test's own CRC-32.
std::vector<Chunk> chunks_of(const Bytes& png) {
  std::vector<Chunk> out;
  std::size_t pos = 8;
  while (pos + 12 <= png.size()) {
    const std::uint32_t length = be32(png, pos);
    EXPECT_LE(pos + 12 + length, png.size());
    if (pos + 12 + length > png.size()) break;
    const std::uint32_t crc = test::crc32(png.data() + pos + 4, 4 + length);
    EXPECT_EQ(be32(png, pos + 8 + length), crc);
    out.push_back({std::string(png.begin() + static_cast<long>(pos + 4),
                               png.begin() + static_cast<long>(pos + 8)),
                   Bytes(png.begin() + static_cast<long>(pos + 8),
                         png.begin() + static_cast<long>(pos + 8 + length))});
    pos += 12 + length;
  }
  EXPECT_EQ(pos, png.size());
  return out;
}

TEST(PngWriter, BothSettingsRoundTripBitExactThroughStb) {
  for (const Image& image : cases()) {
    SCOPED_TRACE(describe(image));
    for (PngCompression setting : {PngCompression::kFast, PngCompression::kSmall}) {
      const Result<Bytes> png = encode_png(image, setting);
      ASSERT_TRUE(png) << png.error().what();
      const Result<Image> back = decode_image(png->data(), png->size());
      ASSERT_TRUE(back) << back.error().what();
      EXPECT_EQ(back->width, image.width);
      EXPECT_EQ(back->height, image.height);
      EXPECT_EQ(back->channels, image.channels);
      EXPECT_EQ(back->pixels, image.pixels);
    }
  }
}

TEST(PngWriter, ChunksAreWellFormed) {
  const Image image = mixed_image(31, 17, 4);
  const Bytes png = encode_png(image).value();
  ASSERT_EQ(Bytes(png.begin(), png.begin() + 8), test::png_signature());
  const std::vector<Chunk> chunks = chunks_of(png);
  ASSERT_GE(chunks.size(), 3u);
  EXPECT_EQ(chunks.front().type, "IHDR");
  EXPECT_EQ(chunks.front().body, test::ihdr_body(31, 17, 8, 6));
  EXPECT_EQ(chunks.back().type, "IEND");
  EXPECT_TRUE(chunks.back().body.empty());
  for (std::size_t i = 1; i + 1 < chunks.size(); ++i)
    EXPECT_EQ(chunks[i].type, "IDAT");
}

#if defined(RVAE_HAVE_LIBDEFLATE)
// The filtered scanlines inside the IDAT stream (zlib header and Adler-32 checked by
// libdeflate's zlib decoder).
Bytes inflate_idat(const Bytes& png, std::size_t raw_size) {
  Bytes zlib;
  for (const Chunk& chunk : chunks_of(png)) {
    if (chunk.type == "IDAT") zlib.insert(zlib.end(), chunk.body.begin(), chunk.body.end());
  }
  Bytes raw(raw_size);
  libdeflate_decompressor* d = libdeflate_alloc_decompressor();
  std::size_t actual = 0;
  const libdeflate_result result =
      libdeflate_zlib_decompress(d, zlib.data(), zlib.size(), raw.data(), raw.size(), &actual);
  libdeflate_free_decompressor(d);
  EXPECT_EQ(result, LIBDEFLATE_SUCCESS);
  EXPECT_EQ(actual, raw_size);
  return raw;
}

std::vector<int> row_filters(const Bytes& png, int width, int height, int channels) {
  const std::size_t row = static_cast<std::size_t>(width * channels) + 1;
  const Bytes raw = inflate_idat(png, row * static_cast<std::size_t>(height));
  std::vector<int> types;
  for (std::size_t y = 0; y < static_cast<std::size_t>(height); ++y)
    types.push_back(raw[y * row]);
  return types;
}

TEST(PngWriter, SmallSettingChoosesTheFilterPerRow) {
  const Image image = mixed_image(64, 48, 3);
  const std::vector<int> types =
      row_filters(encode_png(image, PngCompression::kSmall).value(), 64, 48, 3);
  for (int type : types)
    ASSERT_LE(type, 4);
  // Gradients in three directions and noise do not all favour one filter.
  EXPECT_GE(std::set<int>(types.begin(), types.end()).size(), 3u);
}

// Rows of one noise pattern repeated (Up makes them zeros) and a horizontal ramp whose rows are
// offset by 50 (Sub makes every byte 6, the rest are worse):
// the fast setting must find each image's filter, and use it on every row.
TEST(PngWriter, FastSettingUsesTheImagesCheapestFilterOnEveryRow) {
  Image repeated = mixed_image(40, 64, 3);
  Image ramp = repeated;
  const std::size_t row_bytes = 40 * 3;
  for (std::size_t y = 1; y < 64; ++y) {
    std::copy_n(repeated.pixels.begin() + static_cast<long>((3 * 64 / 4) * row_bytes), row_bytes,
                repeated.pixels.begin() + static_cast<long>(y * row_bytes));
  }
  std::copy_n(repeated.pixels.begin() + static_cast<long>((3 * 64 / 4) * row_bytes), row_bytes,
              repeated.pixels.begin());
  for (std::size_t i = 0; i < ramp.pixels.size(); ++i)
    ramp.pixels[i] = static_cast<std::uint8_t>(2 * (i % row_bytes) + 50 * (i / row_bytes));

  const std::vector<int> up = row_filters(encode_png(repeated).value(), 40, 64, 3);
  const std::vector<int> sub = row_filters(encode_png(ramp).value(), 40, 64, 3);
  // Row 0 has no row above: Up filters it against zeros, still the one filter of the image.
  EXPECT_EQ(std::set<int>(up.begin(), up.end()), std::set<int>{2});
  EXPECT_EQ(std::set<int>(sub.begin(), sub.end()), std::set<int>{1});
}

TEST(PngWriter, SmallerThanStbImageWriteAndSmallIsSmaller) {
  const Image photo = to_rgb(load("astronaut.png"));
  Bytes stb;
  ASSERT_TRUE(
      codec_detail::stb_encode_png(photo.pixels.data(), photo.width, photo.height, 3, &stb).ok);
  const Bytes fast = encode_png(photo, PngCompression::kFast).value();
  const Bytes small = encode_png(photo, PngCompression::kSmall).value();
  EXPECT_LT(fast.size(), stb.size());
  EXPECT_LT(small.size(), fast.size());
}
#endif

#if defined(RVAE_TEST_HAVE_LIBPNG)
// libpng's simplified API, reading back to the image's own format.
TEST(PngWriter, BothSettingsRoundTripBitExactThroughLibpng) {
  for (const Image& image : cases()) {
    for (PngCompression setting : {PngCompression::kFast, PngCompression::kSmall}) {
      SCOPED_TRACE(describe(image) + (setting == PngCompression::kFast ? " fast" : " small"));
      const Bytes png = encode_png(image, setting).value();
      png_image reader{};
      reader.version = PNG_IMAGE_VERSION;
      ASSERT_NE(png_image_begin_read_from_memory(&reader, png.data(), png.size()), 0)
          << reader.message;
      reader.format = image.channels == 4 ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
      Bytes pixels(PNG_IMAGE_SIZE(reader));
      ASSERT_NE(png_image_finish_read(&reader, nullptr, pixels.data(), 0, nullptr), 0)
          << reader.message;
      EXPECT_EQ(reader.width, static_cast<png_uint_32>(image.width));
      EXPECT_EQ(reader.height, static_cast<png_uint_32>(image.height));
      EXPECT_EQ(pixels, image.pixels);
    }
  }
}
#endif

// PIL, as the service and the upstream client read PNG, when Debian's python3-pil is there.
TEST(PngWriter, BothSettingsRoundTripBitExactThroughPil) {
#ifdef _WIN32
  GTEST_SKIP() << "the PIL check runs /usr/bin/python3 through a POSIX shell";
#else
  if (std::system("/usr/bin/python3 -c 'import PIL' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "/usr/bin/python3 with PIL (python3-pil) is not installed";
  }
  const testing_support::TempDir temp("rvae-png-pil");
  const std::string dir = temp.str();
  int index = 0;
  for (const Image& image : cases()) {
    for (PngCompression setting : {PngCompression::kFast, PngCompression::kSmall}) {
      SCOPED_TRACE(describe(image) + (setting == PngCompression::kFast ? " fast" : " small"));
      const std::string stem = dir + "/" + std::to_string(index++);
      const Bytes png = encode_png(image, setting).value();
      std::ofstream(stem + ".png", std::ios::binary)
          .write(reinterpret_cast<const char*>(png.data()),
                 static_cast<std::streamsize>(png.size()));
      std::ofstream(stem + ".raw", std::ios::binary)
          .write(reinterpret_cast<const char*>(image.pixels.data()),
                 static_cast<std::streamsize>(image.pixels.size()));
      const std::string mode = image.channels == 4 ? "RGBA" : "RGB";
      const std::string check =
          "/usr/bin/python3 -c \"import sys; from PIL import Image; im = Image.open('" + stem +
          ".png'); im.load(); sys.exit(0 if im.mode == '" + mode + "' and im.size == (" +
          std::to_string(image.width) + ", " + std::to_string(image.height) +
          ") and im.tobytes() == open('" + stem + ".raw', 'rb').read() else 1)\"";
      EXPECT_EQ(std::system(check.c_str()), 0) << check;
      std::remove((stem + ".png").c_str());
      std::remove((stem + ".raw").c_str());
    }
  }
#endif
}

}  // namespace
}  // namespace rvae
