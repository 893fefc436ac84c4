// decode_image and read_image on the test files and on hand-built PNG/JPEG streams.
#ifdef _WIN32
#ifndef NOMINMAX
#define NOMINMAX  // std::min/std::max below
#endif
#include <windows.h>
#else
#include <sys/mman.h>
#endif

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "codec/codec_test_util.hpp"
#include "codec/image_layout.hpp"
#include "codec/jpeg_backend.hpp"
#include "rvae/image.hpp"
#include "support/result_matchers.hpp"
#include "support/temp_dir.hpp"

namespace rvae {
namespace {

using test::make_png;
using test::mean_abs_rgb_diff;
using test::png_signature;
using test::put_chunk;
using test::read_test_file;
using ::testing::HasSubstr;
using testing_support::IsError;

Result<Image> decode(const Bytes& bytes, const ImageDecodeOptions& options = {}) {
  return decode_image(bytes.data(), bytes.size(), options);
}

bool is_gray(const Image& image) {
  for (std::size_t i = 0; i + 2 < image.pixels.size();
       i += static_cast<std::size_t>(image.channels)) {
    if (image.pixels[i] != image.pixels[i + 1] || image.pixels[i] != image.pixels[i + 2]) {
      return false;
    }
  }
  return true;
}

// Mean absolute difference over the first three channels of two same-sized images.
TEST(DecodeImage, TestFilesHaveTheirDocumentedShape) {
  struct Case {
    const char* file;
    int width, height, channels;
  };
  // Sizes from tests/data/LICENSES.md / file(1): alpha sources decode to RGBA, others to RGB.
  const Case cases[] = {{"astronaut.png", 512, 512, 3},
                        {"chelsea.png", 451, 300, 3},
                        {"coffee.png", 600, 400, 3},
                        {"logo.png", 500, 500, 4},
                        {"chessboard_GRAY.png", 200, 200, 3},
                        {"gray16.png", 128, 128, 3},
                        {"gray_alpha.png", 64, 64, 4},
                        {"palette_color.png", 10, 10, 3},
                        {"foo3x5x4indexed.png", 5, 3, 4},
                        {"rocket.jpg", 640, 427, 3},
                        {"hubble_deep_field.jpg", 1000, 872, 3},
                        {"retina.jpg", 1411, 1411, 3},
                        {"astronaut_progressive.jpg", 512, 512, 3}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    const Result<Image> image = decode(read_test_file(c.file));
    ASSERT_TRUE(image.has_value()) << image.error().what();
    EXPECT_EQ(image->width, c.width);
    EXPECT_EQ(image->height, c.height);
    EXPECT_EQ(image->channels, c.channels);
    EXPECT_TRUE(image->validate().has_value());
  }
}

TEST(DecodeImage, GrayscaleSourcesBecomeGrayRgb) {
  for (const char* file : {"chessboard_GRAY.png", "gray16.png", "gray_alpha.png"}) {
    SCOPED_TRACE(file);
    const Result<Image> image = decode(read_test_file(file));
    ASSERT_TRUE(image.has_value());
    EXPECT_TRUE(is_gray(*image));
    // Not a constant image: both dark and bright values occur.
    std::uint8_t lo = 255;
    std::uint8_t hi = 0;
    for (std::size_t i = 0; i < image->pixels.size();
         i += static_cast<std::size_t>(image->channels)) {
      lo = std::min(lo, image->pixels[i]);
      hi = std::max(hi, image->pixels[i]);
    }
    EXPECT_LT(lo, 64);
    EXPECT_GT(hi, 192);
  }
}

TEST(DecodeImage, HandBuiltRgbIsExact) {
  const Bytes rows = {0, 1,   2,   3,   4,   5,   6,  // filter 0, two pixels
                      0, 250, 251, 252, 253, 254, 255};
  const Result<Image> image = decode(make_png(2, 2, 8, 2, rows));
  ASSERT_TRUE(image.has_value()) << image.error().what();
  EXPECT_EQ(image->channels, 3);
  EXPECT_EQ(image->pixels, (Bytes{1, 2, 3, 4, 5, 6, 250, 251, 252, 253, 254, 255}));
}

TEST(DecodeImage, OneBitGrayScalesToFullRange) {
  const Bytes rows = {0, 0b10100000};  // three pixels: white, black, white
  const Result<Image> image = decode(make_png(3, 1, 1, 0, rows));
  ASSERT_TRUE(image.has_value()) << image.error().what();
  EXPECT_EQ(image->pixels, (Bytes{255, 255, 255, 0, 0, 0, 255, 255, 255}));
}

// stb copies a zero-length IDAT met before any image data from a null buffer (UBSan stops
// there): decode_image gives stb the file without it. Gray goes to stb, RGB to the fast path.
TEST(DecodeImage, EmptyIdatBeforeTheDataIsSkipped) {
  const Result<Image> gray = decode(make_png(3, 1, 8, 0, {0, 10, 20, 30}, {{"IDAT", {}}}));
  ASSERT_TRUE(gray.has_value()) << gray.error().what();
  EXPECT_EQ(gray->pixels, (Bytes{10, 10, 10, 20, 20, 20, 30, 30, 30}));
  const Result<Image> rgb = decode(make_png(1, 1, 8, 2, {0, 1, 2, 3}, {{"IDAT", {}}}));
  ASSERT_TRUE(rgb.has_value()) << rgb.error().what();
  EXPECT_EQ(rgb->pixels, (Bytes{1, 2, 3}));
  // Nothing but empty IDATs is still no image.
  Bytes empty_only = test::png_signature();
  test::put_chunk(&empty_only, "IHDR", test::ihdr_body(1, 1, 8, 0));
  test::put_chunk(&empty_only, "IDAT", {});
  test::put_chunk(&empty_only, "IEND", {});
  EXPECT_FALSE(decode(empty_only).has_value());
}

TEST(DecodeImage, InterlacedPngIsReassembled) {
  // Adam7 on 2x2: pass 1 holds (0,0), pass 6 holds (1,0), pass 7 holds row 1.
  const Bytes passes = {0, 10, 11, 12, 0, 20, 21, 22, 0, 30, 31, 32, 40, 41, 42};
  const Result<Image> image = decode(make_png(2, 2, 8, 2, passes, {}, 1));
  ASSERT_TRUE(image.has_value()) << image.error().what();
  EXPECT_EQ(image->pixels, (Bytes{10, 11, 12, 20, 21, 22, 30, 31, 32, 40, 41, 42}));
}

TEST(DecodeImage, SixteenBitGrayKeepsTheHighByte) {
  // Values k * 257 map to k under both truncation and rounding to 8 bits.
  const Bytes rows = {0, 0x00, 0x00, 0x12, 0x12, 0xAB, 0xAB, 0xFF, 0xFF};
  const Result<Image> image = decode(make_png(4, 1, 16, 0, rows));
  ASSERT_TRUE(image.has_value()) << image.error().what();
  EXPECT_EQ(image->channels, 3);
  EXPECT_EQ(image->pixels, (Bytes{0, 0, 0, 0x12, 0x12, 0x12, 0xAB, 0xAB, 0xAB, 0xFF, 0xFF, 0xFF}));
}

TEST(DecodeImage, SixteenBitRgbaKeepsTheHighByte) {
  const Bytes rows = {0, 0x01, 0x01, 0x80, 0x80, 0xFE, 0xFE, 0x33, 0x33};
  const Result<Image> image = decode(make_png(1, 1, 16, 6, rows));
  ASSERT_TRUE(image.has_value()) << image.error().what();
  EXPECT_EQ(image->channels, 4);
  EXPECT_EQ(image->pixels, (Bytes{0x01, 0x80, 0xFE, 0x33}));
}

TEST(DecodeImage, GrayAlphaBecomesRgba) {
  const Bytes rows = {0, 10, 20, 30, 40};
  const Result<Image> image = decode(make_png(2, 1, 8, 4, rows));
  ASSERT_TRUE(image.has_value()) << image.error().what();
  EXPECT_EQ(image->channels, 4);
  EXPECT_EQ(image->pixels, (Bytes{10, 10, 10, 20, 30, 30, 30, 40}));
}

TEST(DecodeImage, PaletteBecomesRgb) {
  const Bytes palette = {255, 0, 0, 0, 255, 0, 0, 0, 255};
  const Bytes rows = {0, 2, 0, 1};
  const Result<Image> image = decode(make_png(3, 1, 8, 3, rows, {{"PLTE", palette}}));
  ASSERT_TRUE(image.has_value()) << image.error().what();
  EXPECT_EQ(image->channels, 3);
  EXPECT_EQ(image->pixels, (Bytes{0, 0, 255, 255, 0, 0, 0, 255, 0}));
}

TEST(DecodeImage, PaletteWithTransparencyBecomesRgba) {
  const Bytes palette = {255, 0, 0, 0, 255, 0, 0, 0, 255};
  const Bytes alpha = {0, 128};  // entry 2 keeps the default 255
  const Bytes rows = {0, 2, 0, 1};
  const Result<Image> image =
      decode(make_png(3, 1, 8, 3, rows, {{"PLTE", palette}, {"tRNS", alpha}}));
  ASSERT_TRUE(image.has_value()) << image.error().what();
  EXPECT_EQ(image->channels, 4);
  EXPECT_EQ(image->pixels, (Bytes{0, 0, 255, 255, 255, 0, 0, 0, 0, 255, 0, 128}));
}

TEST(DecodeImage, GrayWithTransparentColourBecomesRgba) {
  const Bytes transparent_gray = {0, 7};
  const Bytes rows = {0, 7, 8};
  const Result<Image> image = decode(make_png(2, 1, 8, 0, rows, {{"tRNS", transparent_gray}}));
  ASSERT_TRUE(image.has_value()) << image.error().what();
  EXPECT_EQ(image->channels, 4);
  EXPECT_EQ(image->pixels, (Bytes{7, 7, 7, 0, 8, 8, 8, 255}));
}

TEST(DecodeImage, ProgressiveJpegMatchesTheLosslessOriginal) {
  const Result<Image> original = decode(read_test_file("astronaut.png"));
  const Result<Image> progressive = decode(read_test_file("astronaut_progressive.jpg"));
  ASSERT_TRUE(original.has_value());
  ASSERT_TRUE(progressive.has_value());
  // JPEG at typical qualities stays within a few levels on average.
  EXPECT_LT(mean_abs_rgb_diff(*original, *progressive), 4.0);
}

TEST(DecodeImage, CmykJpegIsRefused) {
  EXPECT_THAT(decode(read_test_file("astronaut_cmyk.jpg")),
              IsError(ErrorCode::kInvalidArgument,
                      HasSubstr("CMYK JPEG is not supported; convert to RGB")));
}

TEST(DecodeImage, TruncatedJpegIsDataLoss) {
  EXPECT_THAT(decode(read_test_file("truncated.jpg")),
              IsError(ErrorCode::kDataLoss, HasSubstr("truncated")));
}

TEST(DecodeImage, JpegCutInsideTheScanIsDataLoss) {
  // stb decodes such data silently (missing data reads as zeros); the scan catches it.
  const Bytes full = read_test_file("rocket.jpg");
  const Bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(full.size() / 2));
  EXPECT_THAT(decode(cut), IsError(ErrorCode::kDataLoss, HasSubstr("truncated JPEG")));
}

TEST(DecodeImage, EveryPrefixOfASmallPngIsDataLoss) {
  const Bytes png = read_test_file("foo3x5x4indexed.png");
  for (std::size_t size = 8; size < png.size(); ++size) {
    SCOPED_TRACE(size);
    EXPECT_THAT(decode_image(png.data(), size),
                IsError(ErrorCode::kDataLoss, HasSubstr("truncated PNG")));
  }
}

TEST(DecodeImage, TrailingDataAfterTheImageIsIgnored) {
  const Bytes jpeg = read_test_file("astronaut_progressive.jpg");
  Bytes padded = jpeg;
  padded.insert(padded.end(), 100, 0x5A);
  const Result<Image> a = decode(jpeg);
  const Result<Image> b = decode(padded);
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(a->pixels, b->pixels);
}

TEST(DecodeImage, MaxPixelsIsAnInclusiveLimit) {
  const Bytes png = read_test_file("astronaut.png");
  ImageDecodeOptions options;
  options.max_pixels = 512 * 512;
  EXPECT_TRUE(decode(png, options).has_value());
  options.max_pixels = 512 * 512 - 1;
  EXPECT_THAT(decode(png, options),
              IsError(ErrorCode::kResourceExhausted, HasSubstr("above max_pixels 262143")));

  const Bytes jpeg = read_test_file("rocket.jpg");
  options.max_pixels = 640 * 427 - 1;
  EXPECT_THAT(decode(jpeg, options), IsError(ErrorCode::kResourceExhausted, HasSubstr("640x427")));
}

TEST(DecodeImage, HugeIhdrIsRefusedBeforeLookingFurther) {
  // Signature and IHDR only: 10^10 pixels claimed, no pixel data at all. The size is refused
  // before the missing data is even noticed, so nothing was allocated for it.
  Bytes png = png_signature();
  put_chunk(&png, "IHDR", test::ihdr_body(100000, 100000, 8, 2));
  EXPECT_THAT(decode(png), IsError(ErrorCode::kResourceExhausted, HasSubstr("100000x100000")));
  ImageDecodeOptions unlimited;
  unlimited.max_pixels = UINT64_MAX;
  EXPECT_THAT(decode(png, unlimited),
              IsError(ErrorCode::kResourceExhausted, HasSubstr("65535 pixels per side")));
}

TEST(DecodeImage, SideAbove65535IsRefusedEvenWithFewPixels) {
  const Bytes png = make_png(70000, 1, 8, 0, Bytes(70001, 0));
  EXPECT_THAT(decode(png), IsError(ErrorCode::kResourceExhausted, HasSubstr("70000x1")));
}

TEST(DecodeImage, SizesStbCannotAddressAreResourceExhausted) {
  // 65535 x 16385 RGBA needs more than 2^32 bytes; stb refuses it while parsing IHDR.
  Bytes png = png_signature();
  put_chunk(&png, "IHDR", test::ihdr_body(65535, 16385, 8, 6));
  put_chunk(&png, "IDAT", test::zlib_stored({0}));
  put_chunk(&png, "IEND", {});
  ImageDecodeOptions unlimited;
  unlimited.max_pixels = UINT64_MAX;
  EXPECT_THAT(decode(png, unlimited),
              IsError(ErrorCode::kResourceExhausted, HasSubstr("too large to decode")));
}

TEST(DecodeImage, EmptyInputIsInvalid) {
  EXPECT_THAT(decode_image(nullptr, 0), IsError(ErrorCode::kInvalidArgument, HasSubstr("empty")));
  const std::uint8_t byte = 0;
  EXPECT_THAT(decode_image(&byte, 0), IsError(ErrorCode::kInvalidArgument, HasSubstr("empty")));
}

TEST(DecodeImage, OtherFormatsAreInvalid) {
  const Bytes gif = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0, 0, 0};
  EXPECT_THAT(decode(gif), IsError(ErrorCode::kInvalidArgument, HasSubstr("not a PNG or JPEG")));
  EXPECT_THAT(decode({0xFF}), IsError(ErrorCode::kInvalidArgument, HasSubstr("not a PNG or JPEG")));
}

TEST(DecodeImage, GarbageAfterValidMagicIsInvalid) {
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    Bytes png = png_signature();
    Bytes jpeg = {0xFF, 0xD8};
    const Bytes garbage = test::pseudo_random_bytes(4096, seed);
    png.insert(png.end(), garbage.begin(), garbage.end());
    jpeg.insert(jpeg.end(), garbage.begin(), garbage.end());
    if (jpeg[2] == 0xFF) jpeg[2] = 0x00;  // keep the first byte from posing as a marker
    SCOPED_TRACE(seed);
    EXPECT_THAT(decode(png), IsError(ErrorCode::kInvalidArgument, HasSubstr("corrupt PNG")));
    EXPECT_THAT(decode(jpeg), IsError(ErrorCode::kInvalidArgument, HasSubstr("corrupt JPEG")));
  }
}

Bytes png_with_bad_zlib_header() {
  Bytes zlib = test::zlib_stored({0, 1, 2, 3});
  zlib[0] = 0x00;  // CMF: compression method 0 is not deflate
  Bytes png = png_signature();
  put_chunk(&png, "IHDR", test::ihdr_body(1, 1, 8, 2));
  put_chunk(&png, "IDAT", zlib);
  put_chunk(&png, "IEND", {});
  return png;
}

// rocket.jpg with its first quantisation table renumbered to 15 (only 0..3 exist).
Bytes jpeg_with_bad_dqt() {
  Bytes jpeg = read_test_file("rocket.jpg");
  for (std::size_t i = 2; i + 4 < jpeg.size(); ++i) {
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xDB) {
      jpeg[i + 4] = 0x0F;
      break;
    }
  }
  return jpeg;
}

// rocket.jpg with its second component sampled 3x1: valid for the pre-scan (factors 1..4), but
// the scan's data no longer fits the block layout; only the decoders can tell. (libjpeg-turbo
// decodes it from the header the pre-scan passed down; TurboJPEG's own header read, no longer
// run, refused the subsampling by name.)
Bytes jpeg_with_odd_sampling() {
  Bytes jpeg = read_test_file("rocket.jpg");
  for (std::size_t i = 2; i + 14 < jpeg.size(); ++i) {
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) {
      jpeg[i + 14] = 0x31;
      break;
    }
  }
  return jpeg;
}

// What the active JPEG decoder says about jpeg_with_odd_sampling().
const char* odd_sampling_reason() {
#if defined(RVAE_HAVE_TURBOJPEG)
  return "Corrupt JPEG data: 63887 extraneous bytes before marker 0xd9";
#else
  return "bad huffman code";
#endif
}

TEST(DecodeImage, CorruptContentReportsTheDecoderReason) {
  EXPECT_THAT(decode(png_with_bad_zlib_header()),
              IsError(ErrorCode::kInvalidArgument,
                      HasSubstr("corrupt or unsupported PNG: bad zlib header")));
  EXPECT_THAT(
      decode(jpeg_with_odd_sampling()),
      IsError(ErrorCode::kInvalidArgument,
              HasSubstr(std::string("corrupt or unsupported JPEG: ") + odd_sampling_reason())));
}

TEST(DecodeImage, EachJpegBackendReportsItsOwnReason) {
  const Bytes jpeg = jpeg_with_odd_sampling();
  codec_detail::DecodedPixels pixels;
  const codec_detail::JpegStatus stb =
      codec_detail::stb_decode_jpeg_rgb(jpeg.data(), jpeg.size(), &pixels);
  EXPECT_FALSE(stb.ok);
  EXPECT_FALSE(stb.resource_exhausted);
  EXPECT_EQ(stb.reason, "bad huffman code");
#if defined(RVAE_HAVE_TURBOJPEG)
  const codec_detail::JpegStatus turbo = codec_detail::turbo_decode_jpeg_rgb(
      jpeg.data(), jpeg.size(), codec_detail::scan_jpeg(jpeg.data(), jpeg.size()).jpeg, &pixels);
  EXPECT_FALSE(turbo.ok);
  EXPECT_FALSE(turbo.resource_exhausted);
  EXPECT_EQ(turbo.reason, odd_sampling_reason());
  EXPECT_STREQ(codec_detail::active_jpeg_backend(), "libjpeg-turbo");
#else
  EXPECT_STREQ(codec_detail::active_jpeg_backend(), "stb_image");
#endif
}

TEST(DecodeImage, MalformedTableSegmentsAreRefusedBeforeDecoding) {
  EXPECT_THAT(
      decode(jpeg_with_bad_dqt()),
      IsError(
          ErrorCode::kInvalidArgument,
          HasSubstr("corrupt JPEG: quantisation table segment at byte 628 has precision 0 id 15 "
                    "(precision 0..1, id 0..3)")));
}

TEST(DecodeImage, UnsupportedBitDepthIsInvalid) {
  const Result<Image> result = decode(make_png(1, 1, 3, 0, {0, 0}));
  EXPECT_THAT(result,
              IsError(ErrorCode::kInvalidArgument, HasSubstr("corrupt or unsupported PNG")));
}

TEST(DecodeImage, ConcurrentFailuresReportTheirOwnReasons) {
  // stb keeps its failure reason in a thread_local, libjpeg-turbo in its per-thread handle;
  // each thread must see its own.
  const Bytes bad_png = png_with_bad_zlib_header();
  const Bytes bad_jpeg = jpeg_with_odd_sampling();
  const Bytes good = read_test_file("foo3x5x4indexed.png");
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const bool png = (t + i) % 2 == 0;
        const Result<Image> result = png ? decode(bad_png) : decode(bad_jpeg);
        const char* expected = png ? "bad zlib header" : odd_sampling_reason();
        if (result.has_value() || result.error().message().find(expected) == std::string::npos) {
          ++wrong;
        }
        if (!decode(good).has_value()) ++wrong;
      }
    });
  }
  for (std::thread& thread : threads)
    thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(DecodeImage, StorageIsReusedWithoutChangingThePixels) {
  // Each decoder path: the active JPEG backend on one and two threads, the PNG fast path, stb's
  // PNG (palette).
  for (const char* name : {"hubble_deep_field.jpg", "astronaut_progressive.jpg", "astronaut.png",
                           "palette_color.png", "logo.png"}) {
    SCOPED_TRACE(name);
    const Bytes file = test::read_test_file(name);
    auto fresh = decode_image(file.data(), file.size());
    ASSERT_TRUE(fresh.has_value()) << fresh.error().message();
    // A larger buffer full of other bytes, as a recycled image would be.
    Bytes storage(fresh->pixels.size() + 4096, 0xA5);
    const std::uint8_t* storage_data = storage.data();
    auto reused = decode_image(file.data(), file.size(), {}, std::move(storage));
    ASSERT_TRUE(reused.has_value()) << reused.error().message();
    EXPECT_EQ(reused->pixels, fresh->pixels);
    EXPECT_EQ(reused->pixels.data(), storage_data) << "the buffer was not reused";
  }
  // Failure leaves no result, whatever the storage held.
  const Bytes truncated = test::read_test_file("truncated.jpg");
  EXPECT_FALSE(decode_image(truncated.data(), truncated.size(), {}, Bytes(1 << 20, 1)));
}

TEST(DecodeImage, InputAboveTwoGibIsRefusedWithoutReadingIt) {
  // A real, lazily-backed 2^31 + 4096 byte mapping that starts with a PNG signature.
  const std::size_t size = (std::size_t{1} << 31) + 4096;
#ifdef _WIN32
  void* mapping = ::VirtualAlloc(nullptr, size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
  ASSERT_NE(mapping, nullptr);
#else
  void* mapping = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  ASSERT_NE(mapping, MAP_FAILED);
#endif
  auto* bytes = static_cast<std::uint8_t*>(mapping);
  const Bytes signature = png_signature();
  std::copy(signature.begin(), signature.end(), bytes);
  EXPECT_THAT(decode_image(bytes, size),
              IsError(ErrorCode::kResourceExhausted, HasSubstr("2^31-1")));
#ifdef _WIN32
  ::VirtualFree(mapping, 0, MEM_RELEASE);
#else
  ::munmap(mapping, size);
#endif
}

// ---- read_image ----

class ReadImage : public ::testing::Test {
 protected:
  const testing_support::TempDir temp_{"rvae_codec_read"};
  const std::string dir_ = temp_.str();
};

TEST_F(ReadImage, MatchesDecodingTheBytes) {
  for (const char* file : {"astronaut.png", "rocket.jpg", "logo.png"}) {
    SCOPED_TRACE(file);
    const Result<Image> from_file = read_image(test::data_path(file));
    const Result<Image> from_memory = decode(read_test_file(file));
    ASSERT_TRUE(from_file.has_value()) << from_file.error().what();
    ASSERT_TRUE(from_memory.has_value());
    EXPECT_EQ(from_file->width, from_memory->width);
    EXPECT_EQ(from_file->channels, from_memory->channels);
    EXPECT_EQ(from_file->pixels, from_memory->pixels);
  }
}

TEST_F(ReadImage, PassesDecodeOptionsAndErrors) {
  ImageDecodeOptions options;
  options.max_pixels = 100;
  EXPECT_EQ(read_image(test::data_path("astronaut.png"), options).error().code(),
            ErrorCode::kResourceExhausted);
  EXPECT_EQ(read_image(test::data_path("truncated.jpg")).error().code(), ErrorCode::kDataLoss);
}

TEST_F(ReadImage, MissingFileIsNotFoundAndNamesThePath) {
  const std::string path = dir_ + "/no_such_image.png";
  const Result<Image> result = read_image(path);
  EXPECT_THAT(result, IsError(ErrorCode::kNotFound, HasSubstr(path)));
}

TEST_F(ReadImage, DirectoryIsInvalid) {
  EXPECT_THAT(read_image(dir_),
              IsError(ErrorCode::kInvalidArgument, HasSubstr("not a regular file")));
}

TEST_F(ReadImage, FileAboveTwoGibIsRefusedBeforeReading) {
  const std::string path = dir_ + "/huge.png";
  ASSERT_TRUE(std::ofstream(std::filesystem::u8path(path), std::ios::binary));
  // Extended without writing: sparse, takes no disk space.
  std::filesystem::resize_file(std::filesystem::u8path(path), std::uintmax_t{3} << 30);
  EXPECT_THAT(read_image(path),
              IsError(ErrorCode::kResourceExhausted, HasSubstr("3221225472 bytes")));
}

TEST_F(ReadImage, EmptyFileIsInvalid) {
  const std::string path = dir_ + "/empty.jpg";
  ASSERT_TRUE(std::ofstream(std::filesystem::u8path(path), std::ios::binary));
  EXPECT_THAT(read_image(path), IsError(ErrorCode::kInvalidArgument, HasSubstr("empty")));
}

}  // namespace
}  // namespace rvae
