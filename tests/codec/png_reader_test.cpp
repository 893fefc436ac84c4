// The libdeflate PNG fast path: it must give stb's pixels exactly when it takes a file, and hand
// everything unusual back to stb (decode_image's result then is what it was before the path).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "codec/codec_test_util.hpp"
#include "codec/png_reader.hpp"
#include "codec/stb_bridge.hpp"
#include "rvae/image.hpp"

#if defined(RVAE_HAVE_LIBDEFLATE)

namespace rvae {
namespace {

using codec_detail::DecodedPixels;
using codec_detail::fast_decode_png;
using test::read_test_file;

struct OwnedChunk {
  std::string type;
  Bytes body;
};

std::uint32_t be32_at(const Bytes& bytes, std::size_t pos) {
  return (std::uint32_t{bytes[pos]} << 24) | (std::uint32_t{bytes[pos + 1]} << 16) |
         (std::uint32_t{bytes[pos + 2]} << 8) | std::uint32_t{bytes[pos + 3]};
}

std::vector<OwnedChunk> split(const Bytes& png) {
  std::vector<OwnedChunk> out;
  for (std::size_t pos = 8; pos + 12 <= png.size();) {
    const std::uint32_t length = be32_at(png, pos);
    const auto at = [&](std::size_t offset) { return png.begin() + static_cast<long>(offset); };
    out.push_back(
        {std::string(at(pos + 4), at(pos + 8)), Bytes(at(pos + 8), at(pos + 8 + length))});
    pos += 12 + length;
  }
  return out;
}

Bytes join(const std::vector<OwnedChunk>& chunks) {
  Bytes png = test::png_signature();
  for (const OwnedChunk& chunk : chunks)
    test::put_chunk(&png, chunk.type.c_str(), chunk.body);
  return png;
}

// The same PNG with its one zlib stream cut over several IDATs of `piece` bytes.
Bytes with_idats_of(const Bytes& png, std::size_t piece) {
  std::vector<OwnedChunk> out;
  Bytes zlib;
  for (const OwnedChunk& chunk : split(png)) {
    if (chunk.type == "IDAT") {
      zlib.insert(zlib.end(), chunk.body.begin(), chunk.body.end());
      continue;
    }
    if (chunk.type == "IEND") {
      for (std::size_t pos = 0; pos < zlib.size(); pos += piece) {
        const std::size_t end = std::min(zlib.size(), pos + piece);
        out.push_back({"IDAT", Bytes(zlib.begin() + static_cast<long>(pos),
                                     zlib.begin() + static_cast<long>(end))});
      }
    }
    out.push_back(chunk);
  }
  return join(out);
}

DecodedPixels stb(const Bytes& png, int channels) {
  DecodedPixels pixels;
  EXPECT_TRUE(
      codec_detail::stb_decode_png(png.data(), static_cast<int>(png.size()), channels, &pixels).ok);
  return pixels;
}

// Takes `png` on the fast path and checks the pixels against stb's.
void expect_taken_and_equal(const Bytes& png, int channels) {
  DecodedPixels fast;
  ASSERT_TRUE(fast_decode_png(png.data(), png.size(), channels, &fast));
  const DecodedPixels reference = stb(png, channels);
  EXPECT_EQ(fast.width, reference.width);
  EXPECT_EQ(fast.height, reference.height);
  EXPECT_EQ(fast.pixels, reference.pixels);
}

bool taken(const Bytes& png, int channels) {
  DecodedPixels out;
  return fast_decode_png(png.data(), png.size(), channels, &out);
}

Image pattern(int width, int height, int channels) {
  Image image = test::noise_image(width, height, channels, 11);
  // Smooth the lower half so the writer's filters (every type, per row) all come up.
  for (std::size_t i = image.pixels.size() / 2; i < image.pixels.size(); ++i)
    image.pixels[i] = static_cast<std::uint8_t>(i * 7 / 5);
  return image;
}

TEST(PngFastPath, TakesEightBitRgbAndRgbaFilesWithStbsPixels) {
  expect_taken_and_equal(read_test_file("astronaut.png"), 3);
  expect_taken_and_equal(read_test_file("coffee.png"), 3);
  expect_taken_and_equal(read_test_file("logo.png"), 4);
}

TEST(PngFastPath, TakesTheWritersOutputEveryFilterBothSettings) {
  for (int channels : {3, 4}) {
    for (PngCompression setting : {PngCompression::kFast, PngCompression::kSmall}) {
      for (const auto& [w, h] :
           std::vector<std::pair<int, int>>{{1, 1}, {9, 1}, {1, 9}, {67, 45}}) {
        SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h) + "x" + std::to_string(channels));
        const Image image = pattern(w, h, channels);
        const Bytes png = encode_png(image, setting).value();
        DecodedPixels fast;
        ASSERT_TRUE(fast_decode_png(png.data(), png.size(), channels, &fast));
        EXPECT_EQ(fast.pixels, image.pixels);
      }
    }
  }
}

TEST(PngFastPath, TakesAnRgbFileWithASuggestedPalette) {
  std::vector<OwnedChunk> chunks = split(encode_png(pattern(12, 10, 3)).value());
  chunks.insert(chunks.begin() + 1, {"PLTE", Bytes(3 * 16, 9)});
  expect_taken_and_equal(join(chunks), 3);
}

TEST(PngFastPath, GathersAStreamSplitOverManyIdats) {
  const Bytes png = encode_png(pattern(40, 30, 3)).value();
  for (std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{1000}})
    expect_taken_and_equal(with_idats_of(png, piece), 3);
}

TEST(PngFastPath, LeavesOtherLayoutsToStb) {
  EXPECT_FALSE(taken(read_test_file("gray16.png"), 3));
  EXPECT_FALSE(taken(read_test_file("palette_color.png"), 3));
  EXPECT_FALSE(taken(read_test_file("gray_alpha.png"), 4));
  // The file's own channel count only: RGB asked as RGBA (and back) is stb's conversion.
  EXPECT_FALSE(taken(read_test_file("astronaut.png"), 4));
  EXPECT_FALSE(taken(read_test_file("logo.png"), 3));
  // Interlaced: the same rows declared Adam7.
  std::vector<OwnedChunk> chunks = split(encode_png(pattern(8, 8, 3)).value());
  chunks[0].body = test::ihdr_body(8, 8, 8, 2, /*interlace=*/1);
  EXPECT_FALSE(taken(join(chunks), 3));
}

TEST(PngFastPath, LeavesAnythingUnusualToStbAndDecodeImageStillAnswersAsBefore) {
  const Image image = pattern(24, 16, 3);
  const Bytes good = encode_png(image).value();
  std::vector<OwnedChunk> chunks = split(good);
  ASSERT_EQ(chunks.size(), 3u);

  Bytes bad_crc = good;
  bad_crc[bad_crc.size() - 12 - 1] ^= 0x01;  // the IDAT's CRC, just before IEND
  std::vector<OwnedChunk> with_trns = chunks;
  with_trns.insert(with_trns.begin() + 1, {"tRNS", Bytes{0, 1, 0, 2, 0, 3}});
  std::vector<OwnedChunk> text_between = split(with_idats_of(good, 100));
  text_between.insert(text_between.begin() + 2, {"tEXt", Bytes{'a', 0, 'b'}});
  std::vector<OwnedChunk> unknown_critical = chunks;
  unknown_critical.insert(unknown_critical.begin() + 1, {"CgBI", Bytes{0, 0, 0, 0}});
  std::vector<OwnedChunk> odd_palette = chunks;  // stb refuses a PLTE of partial entries
  odd_palette.insert(odd_palette.begin() + 1, {"PLTE", Bytes(40, 7)});
  std::vector<OwnedChunk> two_palettes = chunks;
  two_palettes.insert(two_palettes.begin() + 1, {"PLTE", Bytes(6, 7)});
  two_palettes.insert(two_palettes.begin() + 1, {"PLTE", Bytes(6, 7)});
  std::vector<OwnedChunk> taller = chunks;  // declares a row the stream does not hold
  taller[0].body = test::ihdr_body(24, 17, 8, 2);
  std::vector<OwnedChunk> bad_filter = chunks;
  {
    const Bytes raw = test::pseudo_random_bytes(16 * (24 * 3 + 1), 3);
    Bytes rows = raw;
    for (std::size_t y = 0; y < 16; ++y)
      rows[y * (24 * 3 + 1)] = y == 5 ? 5 : 0;
    bad_filter[1].body = test::zlib_stored(rows);
  }
  Bytes no_iend = good;
  no_iend.resize(good.size() - 12);

  EXPECT_FALSE(taken(bad_crc, 3));
  EXPECT_FALSE(taken(join(with_trns), 3));
  EXPECT_FALSE(taken(join(text_between), 3));
  EXPECT_FALSE(taken(join(unknown_critical), 3));
  EXPECT_FALSE(taken(join(odd_palette), 3));
  EXPECT_FALSE(taken(join(two_palettes), 3));
  EXPECT_FALSE(taken(join(taller), 3));
  EXPECT_FALSE(taken(join(bad_filter), 3));
  EXPECT_FALSE(taken(no_iend, 3));
  // stb ignores CRCs: the image still decodes, to the same pixels, as it did before.
  const Result<Image> decoded = decode_image(bad_crc.data(), bad_crc.size());
  ASSERT_TRUE(decoded) << decoded.error().what();
  EXPECT_EQ(decoded->pixels, image.pixels);
  // And what stb refuses stays refused.
  const Bytes filter5 = join(bad_filter);
  EXPECT_FALSE(decode_image(filter5.data(), filter5.size()));
}

}  // namespace
}  // namespace rvae

#endif  // RVAE_HAVE_LIBDEFLATE
