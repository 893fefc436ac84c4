// The JPEG table and header checks (src/codec/jpeg_segments.hpp), through scan_jpeg and
// decode_image: malformed segments are refused before any decoder sees them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "codec/codec_test_util.hpp"
#include "codec/image_layout.hpp"
#include "rvae/image.hpp"

namespace rvae::codec_detail {
namespace {

using test::put_be16;

void put_segment(Bytes* out, std::uint8_t marker, const Bytes& body) {
  out->push_back(0xFF);
  out->push_back(marker);
  put_be16(out, static_cast<std::uint32_t>(body.size() + 2));
  out->insert(out->end(), body.begin(), body.end());
}

// A frame header for 8x8, three components with ids 1, 2, 3, sampling 1x1, table 0.
Bytes frame_body() {
  return {8, 0, 8, 0, 8, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0};
}

// A scan of component 1 with tables 0/0 and the given spectral/approximation parameters.
Bytes scan_body(std::uint8_t start = 0, std::uint8_t end = 63, std::uint8_t approx = 0) {
  return {1, 1, 0x00, start, end, approx};
}

// Quantisation table 0 and Huffman tables DC 0 and AC 0 (one code each).
void put_default_tables(Bytes* jpeg) {
  Bytes quant(65, 1);
  quant[0] = 0x00;
  put_segment(jpeg, 0xDB, quant);
  put_segment(jpeg, 0xC4, {0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00});
  put_segment(jpeg, 0xC4, {0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00});
}

// SOI, the given segments, the default tables (unless `tables` is false), a frame, one scan,
// two entropy bytes and EOI.
Bytes jpeg_with(const std::vector<std::pair<std::uint8_t, Bytes>>& segments,
                std::uint8_t frame_marker = 0xC0, const Bytes& frame = frame_body(),
                const Bytes& scan = scan_body(), bool tables = true) {
  Bytes jpeg = {0xFF, 0xD8};
  for (const auto& [marker, body] : segments)
    put_segment(&jpeg, marker, body);
  if (tables) put_default_tables(&jpeg);
  put_segment(&jpeg, frame_marker, frame);
  put_segment(&jpeg, 0xDA, scan);
  jpeg.insert(jpeg.end(), {0x12, 0x34, 0xFF, 0xD9});
  return jpeg;
}

// A DHT body: class/id byte, 16 counts, then the values (count total, all zero).
Bytes huffman_table(std::uint8_t class_id, const std::vector<int>& counts_by_length) {
  Bytes body = {class_id};
  int total = 0;
  for (int i = 0; i < 16; ++i) {
    const int count = i < static_cast<int>(counts_by_length.size()) ? counts_by_length[i] : 0;
    body.push_back(static_cast<std::uint8_t>(count));
    total += count;
  }
  body.insert(body.end(), static_cast<std::size_t>(total), 0);
  return body;
}

void expect_refused(const Bytes& jpeg, const std::string& fragment) {
  const ImageLayout layout = scan_jpeg(jpeg.data(), jpeg.size());
  ASSERT_TRUE(layout.problem.has_value()) << "accepted; expected: " << fragment;
  EXPECT_EQ(layout.problem->code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(layout.problem->message().find(fragment), std::string::npos)
      << layout.problem->message();
}

void expect_accepted(const Bytes& jpeg) {
  const ImageLayout layout = scan_jpeg(jpeg.data(), jpeg.size());
  EXPECT_FALSE(layout.problem.has_value()) << layout.problem->message();
}

TEST(JpegSegments, WellFormedSegmentsPass) {
  Bytes two_tables = huffman_table(0x00, {0, 1});
  const Bytes ac = huffman_table(0x13, {0, 2, 2});
  two_tables.insert(two_tables.end(), ac.begin(), ac.end());
  Bytes quant(1 + 64, 1);
  quant[0] = 0x00;
  Bytes quant16(1 + 128, 1);
  quant16[0] = 0x13;
  expect_accepted(jpeg_with({{0xC4, two_tables}, {0xDB, quant}, {0xDB, quant16}}));
  // A full code space at length 8 (256 codes) is the most a table may hold.
  expect_accepted(jpeg_with({{0xC4, huffman_table(0x01, {0, 0, 0, 0, 0, 0, 0, 255})}}));
}

// stb_image 2.27 writes out of bounds on this file: the counts of one Huffman table sum to 510.
// 30 bytes: SOI, then a DHT of class 0 id 0 whose 255 codes of length 15 and 255 of length 16
// fit the code space but not stb's 256-entry arrays, followed by 7 of the 510 values.
Bytes dht_reproducer() {
  Bytes jpeg = {0xFF, 0xD8, 0xFF, 0xC4, 0x00, 0x1A, 0x00};
  for (int length = 1; length <= 16; ++length)
    jpeg.push_back(length >= 15 ? 0xFF : 0x00);
  jpeg.insert(jpeg.end(), 7, 0x00);
  return jpeg;
}

TEST(JpegSegments, HuffmanTableWithMoreThan256CodesIsRefusedBeforeAnyDecoder) {
  const Bytes jpeg = dht_reproducer();
  ASSERT_EQ(jpeg.size(), 30u);
  expect_refused(jpeg, "Huffman table segment at byte 2 declares 510 codes (at most 256)");
  const Result<Image> decoded = decode_image(jpeg.data(), jpeg.size());
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(decoded.error().message().find("declares 510 codes"), std::string::npos)
      << decoded.error().message();
}

TEST(JpegSegments, MalformedHuffmanTables) {
  expect_refused(jpeg_with({{0xC4, huffman_table(0x20, {1})}}), "class 2 id 0");
  expect_refused(jpeg_with({{0xC4, huffman_table(0x04, {1})}}), "class 0 id 4");
  // Three codes of length 1: only two exist.
  expect_refused(jpeg_with({{0xC4, huffman_table(0x00, {3})}}),
                 "more codes of length 1 or less than the code space holds");
  Bytes short_values = huffman_table(0x00, {0, 3});
  short_values.pop_back();
  expect_refused(jpeg_with({{0xC4, short_values}}), "declares 3 codes but has room for 2");
  Bytes short_counts = huffman_table(0x00, {0, 1});
  Bytes cut(short_counts.begin(), short_counts.begin() + 10);
  expect_refused(jpeg_with({{0xC4, cut}}), "ends inside a table's 16 code counts");
  expect_refused(jpeg_with({{0xC4, {}}}), "Huffman table segment at byte 2 is empty");
}

TEST(JpegSegments, MalformedQuantisationTables) {
  Bytes quant(65, 1);
  quant[0] = 0x20;
  expect_refused(jpeg_with({{0xDB, quant}}), "precision 2 id 0");
  quant[0] = 0x04;
  expect_refused(jpeg_with({{0xDB, quant}}), "precision 0 id 4");
  quant[0] = 0x10;  // a 16-bit table needs 128 bytes
  expect_refused(jpeg_with({{0xDB, quant}}), "ends inside a table");
  Bytes trailing(66, 1);
  trailing[0] = 0x00;  // one table, then a byte that starts a table with no room
  expect_refused(jpeg_with({{0xDB, trailing}}), "ends inside a table");
  expect_refused(jpeg_with({{0xDB, {}}}), "quantisation table segment at byte 2 is empty");
}

TEST(JpegSegments, MalformedFrameHeaders) {
  Bytes twelve_bit = frame_body();
  twelve_bit[0] = 12;
  const Bytes jpeg = jpeg_with({}, 0xC1, twelve_bit);
  const ImageLayout layout = scan_jpeg(jpeg.data(), jpeg.size());
  EXPECT_TRUE(layout.has_dimensions);  // still known, so oversized files are refused as such
  expect_refused(jpeg, "unsupported JPEG: 12-bit samples");

  expect_refused(jpeg_with({}, 0xC0, {8, 0, 8, 0, 8, 2, 1, 0x11, 0, 2, 0x11, 0}),
                 "has 2 components (1, 3 or 4)");
  Bytes sampling = frame_body();
  sampling[7] = 0x51;
  expect_refused(jpeg_with({}, 0xC0, sampling), "component 0 sampling 5x1 (1..4 each)");
  sampling[7] = 0x10;
  expect_refused(jpeg_with({}, 0xC0, sampling), "component 0 sampling 1x0");
  Bytes table = frame_body();
  table[11] = 4;
  expect_refused(jpeg_with({}, 0xC0, table), "component 1 quantisation table 4 (0..3)");
  Bytes duplicate = frame_body();
  duplicate[12] = 1;
  expect_refused(jpeg_with({}, 0xC0, duplicate), "component id 1 twice");

  Bytes two_frames = {0xFF, 0xD8};
  put_segment(&two_frames, 0xC0, frame_body());
  const Bytes rest = jpeg_with({});
  two_frames.insert(two_frames.end(), rest.begin() + 2, rest.end());
  expect_refused(two_frames, "a second frame header at byte 134");
}

TEST(JpegSegments, MalformedScanHeaders) {
  expect_refused(jpeg_with({}, 0xC0, frame_body(), {0, 0, 63, 0}), "has 0 components");
  expect_refused(jpeg_with({}, 0xC0, {8, 0, 8, 0, 8, 1, 1, 0x11, 0}, {2, 1, 0, 2, 0, 0, 63, 0}),
                 "has 2 components; the frame has 1");
  expect_refused(jpeg_with({}, 0xC0, frame_body(), {1, 1, 0, 0, 63, 0, 0}),
                 "has length 9 but 1 components");
  expect_refused(jpeg_with({}, 0xC0, frame_body(), {1, 9, 0, 0, 63, 0}),
                 "component id 9, which the frame lacks");
  expect_refused(jpeg_with({}, 0xC0, frame_body(), {2, 1, 0, 1, 0, 0, 63, 0}),
                 "component id 1 twice");
  expect_refused(jpeg_with({}, 0xC0, frame_body(), {1, 1, 0x40, 0, 63, 0}),
                 "Huffman tables above 3");
  expect_refused(jpeg_with({}, 0xC0, frame_body(), scan_body(1, 63, 0)),
                 "spectral selection 1..63 and approximation 0/0, invalid for a sequential");
  expect_refused(jpeg_with({}, 0xC0, frame_body(), scan_body(0, 63, 0x10)),
                 "invalid for a sequential frame");
  // Progressive: a DC scan is coefficient 0 only; an AC scan has one component; Al <= 13.
  expect_accepted(jpeg_with({}, 0xC2, frame_body(), scan_body(0, 0, 0x01)));
  expect_accepted(jpeg_with({}, 0xC2, frame_body(), scan_body(1, 5, 0x21)));
  expect_refused(jpeg_with({}, 0xC2, frame_body(), scan_body(0, 5, 0)),
                 "invalid for a progressive frame");
  expect_refused(jpeg_with({}, 0xC2, frame_body(), scan_body(6, 5, 0)),
                 "invalid for a progressive frame");
  expect_refused(jpeg_with({}, 0xC2, frame_body(), scan_body(1, 64, 0)),
                 "invalid for a progressive frame");
  expect_refused(jpeg_with({}, 0xC2, frame_body(), scan_body(1, 5, 0x0E)),
                 "invalid for a progressive frame");
  expect_refused(jpeg_with({}, 0xC2, frame_body(), {2, 1, 0, 2, 0, 1, 5, 0}),
                 "invalid for a progressive frame");
}

// Found by fuzzing (fuzz/regressions/jpeg_stb/undefined_ac_table.jpg): stb_image decodes a scan
// with an undefined table's uninitialised memory and reads out of bounds.
TEST(JpegSegments, ScansMayUseOnlyDefinedTables) {
  expect_refused(jpeg_with({}, 0xC0, frame_body(), {1, 1, 0x01, 0, 63, 0}),
                 "decodes component id 1 with AC Huffman table 1, which is not defined");
  expect_refused(jpeg_with({}, 0xC0, frame_body(), {1, 1, 0x20, 0, 63, 0}),
                 "decodes component id 1 with DC Huffman table 2, which is not defined");
  Bytes frame = frame_body();
  frame[8] = 3;  // component 1 uses quantisation table 3
  expect_refused(jpeg_with({}, 0xC0, frame, scan_body()),
                 "decodes component id 1 with quantisation table 3, which is not defined");
  // Tables defined after the scan do not count.
  Bytes late = {0xFF, 0xD8};
  put_segment(&late, 0xC0, frame_body());
  put_segment(&late, 0xDA, scan_body());
  late.insert(late.end(), {0x12, 0x34});
  put_default_tables(&late);
  late.insert(late.end(), {0xFF, 0xD9});
  expect_refused(late, "with quantisation table 0, which is not defined");

  // Progressive scans read only what they decode: an AC scan needs no DC table, a DC
  // refinement scan no Huffman table at all.
  Bytes quant_only = {0xFF, 0xD8};
  Bytes quant(65, 1);
  quant[0] = 0x00;
  put_segment(&quant_only, 0xDB, quant);
  const Bytes refinement =
      jpeg_with({{0xDB, quant}}, 0xC2, frame_body(), scan_body(0, 0, 0x10), false);
  expect_accepted(refinement);
  const Bytes ac_only = jpeg_with({{0xDB, quant}, {0xC4, huffman_table(0x10, {1})}}, 0xC2,
                                  frame_body(), scan_body(1, 5, 0x00), false);
  expect_accepted(ac_only);
  expect_refused(jpeg_with({{0xDB, quant}}, 0xC2, frame_body(), scan_body(0, 0, 0x00), false),
                 "DC Huffman table 0, which is not defined");
}

TEST(JpegSegments, RestartIntervalMustBeFourBytes) {
  expect_accepted(jpeg_with({{0xDD, {0, 16}}}));
  expect_refused(jpeg_with({{0xDD, {0, 16, 0}}}),
                 "restart interval segment at byte 2 has length 5");
}

TEST(JpegSegments, TestFilesPass) {
  for (const char* name : {"rocket.jpg", "hubble_deep_field.jpg", "retina.jpg",
                           "astronaut_progressive.jpg", "astronaut_cmyk.jpg"}) {
    SCOPED_TRACE(name);
    expect_accepted(test::read_test_file(name));
  }
}

}  // namespace
}  // namespace rvae::codec_detail
