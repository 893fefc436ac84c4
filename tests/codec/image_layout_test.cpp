// The structural PNG/JPEG scans (src/codec/image_layout.hpp).
#include "codec/image_layout.hpp"

#include <gtest/gtest.h>

#include <string>

#include "codec/codec_test_util.hpp"
#include "rvae/image.hpp"

namespace rvae::codec_detail {
namespace {

using test::make_png;
using test::png_signature;
using test::put_be16;
using test::put_be32;
using test::put_chunk;
using test::read_test_file;

ImageLayout scan_png_bytes(const Bytes& bytes) {
  return scan_png(bytes.data(), bytes.size());
}
ImageLayout scan_jpeg_bytes(const Bytes& bytes) {
  return scan_jpeg(bytes.data(), bytes.size());
}

void expect_problem(const ImageLayout& layout, ErrorCode code, const std::string& fragment) {
  ASSERT_TRUE(layout.problem.has_value());
  EXPECT_EQ(layout.problem->code(), code) << layout.problem->message();
  EXPECT_NE(layout.problem->message().find(fragment), std::string::npos)
      << layout.problem->message();
}

// ---- PNG ----

TEST(ScanPng, ReadsDimensionsAndAlphaOfTestFiles) {
  struct Case {
    const char* file;
    std::uint32_t width, height;
    bool alpha;
  };
  // Sizes from tests/data/LICENSES.md and the files' IHDR (file(1)); alpha from the colour type
  // or a tRNS chunk.
  const Case cases[] = {
      {"astronaut.png", 512, 512, false},       {"chelsea.png", 451, 300, false},
      {"coffee.png", 600, 400, false},          {"logo.png", 500, 500, true},
      {"chessboard_GRAY.png", 200, 200, false}, {"gray16.png", 128, 128, false},
      {"gray_alpha.png", 64, 64, true},         {"palette_color.png", 10, 10, false},
      {"foo3x5x4indexed.png", 5, 3, true}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    const ImageLayout layout = scan_png_bytes(read_test_file(c.file));
    EXPECT_FALSE(layout.problem.has_value());
    ASSERT_TRUE(layout.has_dimensions);
    EXPECT_EQ(layout.width, c.width);
    EXPECT_EQ(layout.height, c.height);
    EXPECT_EQ(layout.has_alpha, c.alpha);
  }
}

TEST(ScanPng, TrnsChunkMeansAlpha) {
  const Bytes rows = {0, 1};
  EXPECT_FALSE(scan_png_bytes(make_png(1, 1, 8, 0, rows)).has_alpha);
  EXPECT_TRUE(scan_png_bytes(make_png(1, 1, 8, 0, rows, {{"tRNS", {0, 1}}})).has_alpha);
}

TEST(ScanPng, EveryStrictPrefixIsTruncated) {
  const Bytes png = read_test_file("foo3x5x4indexed.png");
  ASSERT_GT(png.size(), 8u);
  for (std::size_t size = 0; size < png.size(); ++size) {
    SCOPED_TRACE(size);
    expect_problem(scan_png(png.data(), size), ErrorCode::kDataLoss, "truncated PNG");
  }
  EXPECT_FALSE(scan_png_bytes(png).problem.has_value());
}

TEST(ScanPng, DimensionsAreKnownEvenWhenTheRestIsMissing) {
  Bytes png = png_signature();
  put_chunk(&png, "IHDR", test::ihdr_body(100000, 100000, 8, 2));
  png.resize(png.size() - 4);  // drop the CRC too
  const ImageLayout layout = scan_png_bytes(png);
  ASSERT_TRUE(layout.has_dimensions);
  EXPECT_EQ(layout.width, 100000u);
  EXPECT_EQ(layout.height, 100000u);
  expect_problem(layout, ErrorCode::kDataLoss, "truncated");
}

TEST(ScanPng, IgnoresDataAfterIend) {
  Bytes png = make_png(1, 1, 8, 2, {0, 1, 2, 3});
  png.insert(png.end(), {0xDE, 0xAD, 0xBE, 0xEF});
  EXPECT_FALSE(scan_png_bytes(png).problem.has_value());
}

TEST(ScanPng, RefusesChunkTypeThatIsNotLetters) {
  Bytes png = png_signature();
  put_be32(&png, 13);
  png.insert(png.end(), {'I', 'H', '1', 'R'});
  png.resize(png.size() + 17, 0);
  expect_problem(scan_png_bytes(png), ErrorCode::kInvalidArgument, "4 ASCII letters");
}

TEST(ScanPng, RefusesChunkLengthAboveTheSpecLimit) {
  Bytes png = make_png(1, 1, 8, 2, {0, 1, 2, 3});
  const std::size_t iend = png.size() - 12;
  png[iend] = 0x80;  // IEND length 0x80000000
  expect_problem(scan_png_bytes(png), ErrorCode::kInvalidArgument, "2147483648 bytes");
}

TEST(ScanPng, FirstChunkMustBeIhdr) {
  Bytes png = png_signature();
  put_chunk(&png, "IDAT", {1, 2, 3});
  expect_problem(scan_png_bytes(png), ErrorCode::kInvalidArgument, "'IDAT', not IHDR");
}

TEST(ScanPng, IhdrMustHaveLength13) {
  Bytes png = png_signature();
  Bytes body = test::ihdr_body(1, 1, 8, 2);
  body.push_back(0);
  put_chunk(&png, "IHDR", body);
  expect_problem(scan_png_bytes(png), ErrorCode::kInvalidArgument, "length 14");
}

TEST(ScanPng, RefusesZeroAndOverlargeDimensions) {
  for (const auto& dims : {std::pair<std::uint32_t, std::uint32_t>{0, 5},
                           {5, 0},
                           {0x80000000u, 1},
                           {1, 0x80000000u}}) {
    Bytes png = png_signature();
    put_chunk(&png, "IHDR", test::ihdr_body(dims.first, dims.second, 8, 2));
    const ImageLayout layout = scan_png_bytes(png);
    EXPECT_FALSE(layout.has_dimensions);
    expect_problem(layout, ErrorCode::kInvalidArgument, "invalid dimensions");
  }
}

TEST(ScanPng, RefusesSecondIhdr) {
  Bytes png = png_signature();
  put_chunk(&png, "IHDR", test::ihdr_body(1, 1, 8, 2));
  put_chunk(&png, "IHDR", test::ihdr_body(1, 1, 8, 2));
  expect_problem(scan_png_bytes(png), ErrorCode::kInvalidArgument, "second IHDR");
}

TEST(ScanPng, RefusesUnknownCriticalChunkButSkipsAncillaryOnes) {
  const Bytes rows = {0, 9, 9, 9};
  EXPECT_FALSE(
      scan_png_bytes(make_png(1, 1, 8, 2, rows, {{"teXt", {'a', 0, 'b'}}})).problem.has_value());
  expect_problem(scan_png_bytes(make_png(1, 1, 8, 2, rows, {{"ABCD", {1}}})),
                 ErrorCode::kInvalidArgument, "unknown critical chunk 'ABCD'");
}

// ---- JPEG ----

void put_segment(Bytes* out, std::uint8_t marker, const Bytes& body) {
  out->push_back(0xFF);
  out->push_back(marker);
  put_be16(out, static_cast<std::uint32_t>(body.size() + 2));
  out->insert(out->end(), body.begin(), body.end());
}

Bytes sof_body(std::uint32_t width, std::uint32_t height, int components) {
  Bytes body = {8};
  put_be16(&body, height);
  put_be16(&body, width);
  body.push_back(static_cast<std::uint8_t>(components));
  for (int i = 0; i < components; ++i) {
    body.insert(body.end(), {static_cast<std::uint8_t>(i + 1), 0x11, 0});
  }
  return body;
}

const Bytes kSosBody = {1, 1, 0x00, 0, 63, 0};
// Entropy-coded bytes with a stuffed 0xFF00, a restart marker and a fill byte.
const Bytes kEntropy = {0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD3, 0x56, 0xFF};

// A structurally complete JPEG: the tables its scan uses (one-code Huffman tables, so the
// entropy bytes are not decodable), a frame and a scan.
Bytes minimal_jpeg(std::uint32_t width, std::uint32_t height, int components = 3) {
  Bytes jpeg = {0xFF, 0xD8};
  put_segment(&jpeg, 0xE0, {'J', 'F', 'I', 'F', 0});
  Bytes quant(65, 1);
  quant[0] = 0x00;
  put_segment(&jpeg, 0xDB, quant);
  put_segment(&jpeg, 0xC4, {0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00});
  put_segment(&jpeg, 0xC4, {0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00});
  put_segment(&jpeg, 0xC0, sof_body(width, height, components));
  put_segment(&jpeg, 0xDA, kSosBody);
  jpeg.insert(jpeg.end(), kEntropy.begin(), kEntropy.end());
  jpeg.insert(jpeg.end(), {0xFF, 0xD9});
  return jpeg;
}

TEST(ScanJpeg, ReadsFrameHeaderOfTestFiles) {
  struct Case {
    const char* file;
    std::uint32_t width, height;
    int components;
  };
  // From tests/data/LICENSES.md and file(1).
  const Case cases[] = {{"rocket.jpg", 640, 427, 3},
                        {"hubble_deep_field.jpg", 1000, 872, 3},
                        {"retina.jpg", 1411, 1411, 3},
                        {"astronaut_progressive.jpg", 512, 512, 3},
                        {"astronaut_cmyk.jpg", 512, 512, 4}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    const ImageLayout layout = scan_jpeg_bytes(read_test_file(c.file));
    EXPECT_FALSE(layout.problem.has_value()) << layout.problem->message();
    ASSERT_TRUE(layout.has_dimensions);
    EXPECT_EQ(layout.width, c.width);
    EXPECT_EQ(layout.height, c.height);
    EXPECT_EQ(layout.components, c.components);
  }
}

TEST(ScanJpeg, TruncatedTestFileIsDataLoss) {
  const ImageLayout layout = scan_jpeg_bytes(read_test_file("truncated.jpg"));
  expect_problem(layout, ErrorCode::kDataLoss, "truncated JPEG");
}

TEST(ScanJpeg, HandBuiltFileIsComplete) {
  const ImageLayout layout = scan_jpeg_bytes(minimal_jpeg(300, 200, 1));
  EXPECT_FALSE(layout.problem.has_value());
  EXPECT_EQ(layout.width, 300u);
  EXPECT_EQ(layout.height, 200u);
  EXPECT_EQ(layout.components, 1);
}

TEST(ScanJpeg, EveryStrictPrefixIsTruncated) {
  for (const Bytes& jpeg : {minimal_jpeg(8, 8), read_test_file("astronaut_progressive.jpg")}) {
    // Prefixes ending inside long entropy-coded runs behave alike; sample those sparsely.
    for (std::size_t size = 2; size < jpeg.size(); size += size < 2000 ? 1 : 97) {
      SCOPED_TRACE(size);
      expect_problem(scan_jpeg(jpeg.data(), size), ErrorCode::kDataLoss, "truncated JPEG");
    }
    EXPECT_FALSE(scan_jpeg_bytes(jpeg).problem.has_value());
  }
}

TEST(ScanJpeg, AcceptsFillBytesAndIgnoresDataAfterEoi) {
  Bytes jpeg = minimal_jpeg(4, 4);
  jpeg.insert(jpeg.begin() + 2, {0xFF, 0xFF});  // fill before the first marker
  jpeg.insert(jpeg.end(), {0x00, 0x11, 0xFF, 0xD8});
  EXPECT_FALSE(scan_jpeg_bytes(jpeg).problem.has_value());
}

TEST(ScanJpeg, RefusesBytesWhereAMarkerBelongs) {
  Bytes jpeg = {0xFF, 0xD8, 0x42};
  expect_problem(scan_jpeg_bytes(jpeg), ErrorCode::kInvalidArgument,
                 "expected a marker at byte 2, found 0x42");
}

TEST(ScanJpeg, RefusesStrayFF00AndSecondSoi) {
  expect_problem(scan_jpeg_bytes({0xFF, 0xD8, 0xFF, 0x00, 0x00}), ErrorCode::kInvalidArgument,
                 "unexpected marker 0xFF00");
  expect_problem(scan_jpeg_bytes({0xFF, 0xD8, 0xFF, 0xD8}), ErrorCode::kInvalidArgument,
                 "unexpected marker 0xFFD8");
}

TEST(ScanJpeg, RefusesEoiBeforeAnyScan) {
  Bytes jpeg = {0xFF, 0xD8};
  put_segment(&jpeg, 0xC0, sof_body(4, 4, 3));
  jpeg.insert(jpeg.end(), {0xFF, 0xD9});
  expect_problem(scan_jpeg_bytes(jpeg), ErrorCode::kInvalidArgument, "before any image data");
}

TEST(ScanJpeg, RefusesSegmentLengthBelowTwo) {
  expect_problem(scan_jpeg_bytes({0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01, 0xFF, 0xD9}),
                 ErrorCode::kInvalidArgument, "has length 1");
}

TEST(ScanJpeg, RefusesMalformedFrameHeaders) {
  Bytes short_frame = {0xFF, 0xD8};
  put_segment(&short_frame, 0xC2, {8, 0, 4, 0});
  expect_problem(scan_jpeg_bytes(short_frame), ErrorCode::kInvalidArgument, "too short");

  Bytes mismatched = {0xFF, 0xD8};
  Bytes body = sof_body(4, 4, 3);
  body.pop_back();
  put_segment(&mismatched, 0xC0, body);
  expect_problem(scan_jpeg_bytes(mismatched), ErrorCode::kInvalidArgument,
                 "length 16 but 3 components");

  for (const Bytes& zero : {minimal_jpeg(0, 4), minimal_jpeg(4, 0), minimal_jpeg(4, 4, 0)}) {
    const ImageLayout layout = scan_jpeg_bytes(zero);
    EXPECT_FALSE(layout.has_dimensions);
    expect_problem(layout, ErrorCode::kInvalidArgument, "frame header gives");
  }
}

TEST(ScanJpeg, DhtJpgAndDacAreNotFrameHeaders) {
  Bytes jpeg = {0xFF, 0xD8};
  // JPG and DAC payloads shaped like a frame header claiming 9x9; a scanner that took these
  // markers for SOF would report those dimensions. A DHT is checked as a Huffman table, so it
  // gets a valid one (one code of length 1) that a frame-header reading would refuse.
  put_segment(&jpeg, 0xC4, {0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05});
  for (int marker : {0xC8, 0xCC}) {
    put_segment(&jpeg, static_cast<std::uint8_t>(marker), sof_body(9, 9, 3));
  }
  const Bytes rest = minimal_jpeg(5, 6);
  jpeg.insert(jpeg.end(), rest.begin() + 2, rest.end());
  const ImageLayout layout = scan_jpeg_bytes(jpeg);
  EXPECT_FALSE(layout.problem.has_value());
  EXPECT_EQ(layout.width, 5u);
  EXPECT_EQ(layout.height, 6u);
}

TEST(ScanJpeg, EveryFrameMarkerIsRecognised) {
  for (int marker = 0xC0; marker <= 0xCF; ++marker) {
    if (marker == 0xC4 || marker == 0xC8 || marker == 0xCC) continue;
    Bytes jpeg = {0xFF, 0xD8};
    put_segment(&jpeg, static_cast<std::uint8_t>(marker), sof_body(7, 3, 4));
    const ImageLayout layout = scan_jpeg_bytes(jpeg);
    EXPECT_TRUE(layout.has_dimensions) << marker;
    EXPECT_EQ(layout.components, 4) << marker;
  }
}

TEST(ScanJpeg, RefusesScanBeforeFrameHeader) {
  Bytes jpeg = {0xFF, 0xD8};
  put_segment(&jpeg, 0xDA, kSosBody);
  expect_problem(scan_jpeg_bytes(jpeg), ErrorCode::kInvalidArgument,
                 "comes before the frame header");
}

}  // namespace
}  // namespace rvae::codec_detail
