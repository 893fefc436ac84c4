// The Huffman walker and the resume streams it writes: from every row of MCUs, the stream
// decodes (through TurboJPEG, as any decoder would) to the whole image's rows below it, bit for
// bit; layouts it does not handle are refused at the header; corrupt or short data stops the
// walk; tables that cannot express the placeholder row give no stream rather than a wrong one.
#include "codec/jpeg_resume.hpp"

#if defined(RVAE_HAVE_JPEG_SPLIT)

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include "codec/image_layout.hpp"
#include "codec/jpeg_split.hpp"
#include "codec_test_util.hpp"
#include "jpeg_test_util.hpp"
#include "rvae/image.hpp"

namespace rvae::codec_detail {
namespace {

using test::compress;
using test::kSplittable;
using test::Layout;
using test::whole_decode;

Bytes stream_bytes(const ResumeStream& stream) {
  Bytes bytes(stream.prefix);
  bytes.insert(bytes.end(), stream.tail, stream.tail + stream.tail_size);
  return bytes;
}

// Whether the stream for the walker's position decodes to `expected`'s rows from the next row
// of MCUs down (its first two rows of MCUs are the placeholder and the context row).
::testing::AssertionResult resumes_exactly(const JpegRowScanner& scanner, const Bytes& expected) {
  ResumeStream stream;
  if (!scanner.resume_stream(&stream)) {
    return ::testing::AssertionFailure() << "no stream at row " << scanner.mcu_row();
  }
  const int mcu = scanner.mcu_height();
  const int from = (scanner.mcu_row() + 1) * mcu;
  if (stream.height != scanner.height() - from + 2 * mcu) {
    return ::testing::AssertionFailure() << "stream height " << stream.height;
  }
  const Bytes resumed = whole_decode(stream_bytes(stream), scanner.width(), stream.height);
  if (resumed.empty()) return ::testing::AssertionFailure() << "the stream does not decode";
  const std::size_t stride = static_cast<std::size_t>(scanner.width()) * 3;
  const std::size_t bytes = static_cast<std::size_t>(scanner.height() - from) * stride;
  if (std::memcmp(resumed.data() + 2 * mcu * stride, expected.data() + from * stride, bytes) != 0) {
    return ::testing::AssertionFailure() << "other pixels from row " << from;
  }
  return ::testing::AssertionSuccess();
}

TEST(JpegResume, EveryRowResumesToTheWholeImageDecode) {
  for (const Layout& layout : kSplittable) {
    if (layout.restart_rows != 0) continue;
    SCOPED_TRACE(layout.name);
    // Odd sizes: partial MCUs on the right and at the bottom.
    const int width = 203;
    const int height = 171;
    const Bytes jpeg = compress(layout, width, height);
    const Bytes expected = whole_decode(jpeg, width, height);
    ASSERT_FALSE(expected.empty());
    JpegRowScanner scanner;
    ASSERT_TRUE(test::open_walker(&scanner, jpeg.data(), jpeg.size()));
    EXPECT_EQ(scanner.width(), width);
    EXPECT_EQ(scanner.height(), height);
    EXPECT_EQ(scanner.mcu_height(), 8 * layout.luma_v);
    EXPECT_EQ(scanner.mcu_rows_total(), (height + scanner.mcu_height() - 1) / scanner.mcu_height());
    ResumeStream unused;
    EXPECT_FALSE(scanner.resume_stream(&unused)) << "row 0 has no context row above it";
    while (scanner.mcu_row() < scanner.mcu_rows_total() - 1) {
      ASSERT_TRUE(scanner.skip_row()) << "row " << scanner.mcu_row();
      if (scanner.mcu_row() < scanner.mcu_rows_total() - 1) {
        ASSERT_TRUE(resumes_exactly(scanner, expected));
      }
    }
    EXPECT_FALSE(scanner.resume_stream(&unused)) << "no rows left after the context row";
    ASSERT_TRUE(scanner.skip_row()) << "the last row";
    EXPECT_FALSE(scanner.skip_row()) << "past the last row";
  }
}

TEST(JpegResume, TestPhotosResume) {
  for (const char* name : {"rocket.jpg", "hubble_deep_field.jpg", "retina.jpg"}) {
    SCOPED_TRACE(name);
    const Bytes jpeg = test::read_test_file(name);
    JpegRowScanner scanner;
    ASSERT_TRUE(test::open_walker(&scanner, jpeg.data(), jpeg.size()));
    const Bytes expected = whole_decode(jpeg, scanner.width(), scanner.height());
    ASSERT_FALSE(expected.empty());
    // Every fifth row: a full decode per row would make this the slowest test.
    while (scanner.mcu_row() < scanner.mcu_rows_total() - 1) {
      if (scanner.mcu_row() % 5 == 1) {
        ASSERT_TRUE(resumes_exactly(scanner, expected));
      }
      ASSERT_TRUE(scanner.skip_row()) << "row " << scanner.mcu_row();
    }
  }
}

TEST(JpegResume, OtherLayoutsAreRefusedAtTheHeader) {
  const Layout refused[] = {
      {"restarts", 3, 2, 2, 1},
      {"progressive", 3, 2, 2, 0, true},
      {"ycc411", 3, 4, 1},
      {"arithmetic", 3, 2, 2, 0, false, 75, false, true},
  };
  for (const Layout& layout : refused) {
    SCOPED_TRACE(layout.name);
    const Bytes jpeg = compress(layout, 64, 64);
    JpegRowScanner scanner;
    EXPECT_FALSE(test::open_walker(&scanner, jpeg.data(), jpeg.size()));
    EXPECT_FALSE(scanner.skip_row());
    EXPECT_FALSE(test::plan_of(jpeg).splittable);
  }
  const Bytes jpeg = compress(kSplittable[0], 64, 64);
  JpegRowScanner scanner;
  EXPECT_FALSE(test::open_walker(&scanner, jpeg.data(), 3)) << "shorter than SOI and a marker";
  const Bytes not_jpeg = {0x89, 'P', 'N', 'G', 0, 0};
  EXPECT_FALSE(test::open_walker(&scanner, not_jpeg.data(), not_jpeg.size()));
  // The header cut anywhere before the scan's data.
  std::size_t sos = 0;
  for (std::size_t i = 0; i + 1 < jpeg.size(); ++i) {
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xDA) sos = i;
  }
  for (std::size_t cut = 2; cut < sos + 10; ++cut) {
    EXPECT_FALSE(test::open_walker(&scanner, jpeg.data(), cut)) << "cut at " << cut;
  }
  EXPECT_TRUE(test::open_walker(&scanner, jpeg.data(), jpeg.size()));
}

// The walker opens with the header the pre-scan read (scan_jpeg), not a walk of its own: the
// frame, the scan, and the segments a resumed stream repeats, the scan header last and ending
// where the entropy-coded data starts.
TEST(JpegResume, TheHeaderComesFromThePreScan) {
  const Bytes jpeg = compress(kSplittable[0], 48, 64);
  const ImageLayout layout = scan_jpeg(jpeg.data(), jpeg.size());
  ASSERT_FALSE(layout.problem.has_value());
  const JpegHeader& header = layout.jpeg;
  EXPECT_TRUE(header.complete);
  EXPECT_TRUE(header.plain);
  EXPECT_EQ(header.width, 48);
  EXPECT_EQ(header.height, 64);
  EXPECT_EQ(header.components, 3);
  EXPECT_EQ(header.scan_components, 3);
  EXPECT_EQ(header.restart_interval, 0);
  EXPECT_EQ(jpeg[header.sof_height_at] << 8 | jpeg[header.sof_height_at + 1], 64);
  ASSERT_GT(header.kept_count, 2);
  for (int i = 0; i < header.kept_count; ++i) {
    const std::size_t at = header.kept_at[i];
    EXPECT_EQ(jpeg[at], 0xFF);
    const int marker = jpeg[at + 1];
    EXPECT_TRUE(marker == 0xC0 || marker == 0xC4 || marker == 0xDB || marker == 0xE0 ||
                marker == 0xDA)
        << marker;
    EXPECT_EQ(header.kept_size[i], 2u + (std::size_t{jpeg[at + 2]} << 8 | jpeg[at + 3]));
  }
  const int last = header.kept_count - 1;
  EXPECT_EQ(jpeg[header.kept_at[last] + 1], 0xDA);
  EXPECT_EQ(header.kept_at[last] + header.kept_size[last], header.entropy_at);
  EXPECT_EQ(walkable_mcu_height(header), 16);
  EXPECT_TRUE(plan_jpeg_split(header).splittable);
  // A marker without a length between the segments: a resumed stream would not repeat it.
  Bytes with_restart = jpeg;
  with_restart.insert(with_restart.begin() + static_cast<std::ptrdiff_t>(header.kept_at[last]),
                      {0xFF, 0xD0});
  const ImageLayout other = scan_jpeg(with_restart.data(), with_restart.size());
  ASSERT_FALSE(other.problem.has_value());
  EXPECT_FALSE(other.jpeg.plain);
  EXPECT_EQ(walkable_mcu_height(other.jpeg), 0);
  JpegRowScanner scanner;
  EXPECT_FALSE(scanner.open(with_restart.data(), with_restart.size(), other.jpeg));
}

// Where each row of MCUs starts in the file, from the resume streams' tails (the stream
// repeats at most the byte a row starts in).
std::vector<std::size_t> row_offsets(const Bytes& jpeg) {
  std::vector<std::size_t> offsets;
  JpegRowScanner scanner;
  if (!test::open_walker(&scanner, jpeg.data(), jpeg.size())) return offsets;
  while (scanner.skip_row() && scanner.mcu_row() < scanner.mcu_rows_total() - 1) {
    ResumeStream stream;
    if (!scanner.resume_stream(&stream)) return {};
    offsets.push_back(static_cast<std::size_t>(stream.tail - jpeg.data()));
  }
  return offsets;
}

TEST(JpegResume, CorruptOrShortDataStopsTheWalk) {
  const Bytes jpeg = compress(kSplittable[0], 256, 256);
  const std::vector<std::size_t> starts = row_offsets(jpeg);  // rows 1 to 14
  ASSERT_EQ(starts.size(), 14u);
  for (const double fraction : {0.3, 0.7}) {
    SCOPED_TRACE(fraction);
    const Bytes bad = test::corrupt_at(jpeg, fraction);  // a marker in the entropy data
    std::size_t marker = 0;
    for (std::size_t i = starts[0]; marker == 0 && i + 1 < bad.size(); ++i) {
      if (bad[i] == 0xFF && bad[i + 1] != 0x00) marker = i;
    }
    // The row of MCUs the marker falls in: the walk must stop there, not before or after.
    const int marker_row =
        static_cast<int>(std::upper_bound(starts.begin(), starts.end(), marker) - starts.begin());
    JpegRowScanner scanner;
    ASSERT_TRUE(test::open_walker(&scanner, bad.data(), bad.size()));
    while (scanner.skip_row()) {
    }
    EXPECT_EQ(scanner.mcu_row(), marker_row) << "marker at byte " << marker;
    ResumeStream stream;
    EXPECT_FALSE(scanner.resume_stream(&stream)) << "a failed walk gives no stream";
  }
  // Cut halfway through the data: the walk stops in the row holding the cut.
  const std::size_t half = starts[0] + (jpeg.size() - starts[0]) / 2;
  const Bytes cut(jpeg.begin(), jpeg.begin() + static_cast<std::ptrdiff_t>(half));
  JpegRowScanner scanner;
  ASSERT_TRUE(test::open_walker(&scanner, cut.data(), cut.size()));
  while (scanner.skip_row()) {
  }
  EXPECT_EQ(
      scanner.mcu_row(),
      static_cast<int>(std::upper_bound(starts.begin(), starts.end(), half) - starts.begin()));
}

// A flat image with fitted tables: the AC table holds only EOB, so no coefficient can pad the
// placeholder row's bits to the file's bit offset. Rows where it would have to give no stream;
// the rows that do give one still resume exactly, and the two-thread decode stays right.
TEST(JpegResume, TablesThatCannotPadGiveNoStream) {
  const Layout fitted{"gray_fitted", 1, 1, 1, 0, false, 75, true};
  // 25 blocks a row of two bits each: the rows start at every even bit offset in turn.
  const int width = 200;
  const int height = 256;
  const std::vector<std::uint8_t> flat(static_cast<std::size_t>(width) * height, 100);
  const Bytes jpeg = test::compress_pixels(fitted, width, height, flat);
  const Bytes expected = whole_decode(jpeg, width, height);
  ASSERT_FALSE(expected.empty());
  JpegRowScanner scanner;
  ASSERT_TRUE(test::open_walker(&scanner, jpeg.data(), jpeg.size()));
  int without = 0;
  int with = 0;
  while (scanner.mcu_row() < scanner.mcu_rows_total() - 2) {
    ASSERT_TRUE(scanner.skip_row());
    ResumeStream stream;
    if (scanner.resume_stream(&stream)) {
      ++with;
      EXPECT_TRUE(resumes_exactly(scanner, expected));
    } else {
      ++without;
    }
  }
  EXPECT_GT(without, 0);
  EXPECT_GT(with, 0);
  JpegSplitPlan plan = test::plan_of(jpeg);
  ASSERT_TRUE(plan.splittable);
  Bytes rgb(expected.size());
  std::string reason;
  ASSERT_TRUE(
      balanced_decode_jpeg_rgb(jpeg.data(), jpeg.size(), plan, rgb.data(), &reason, nullptr))
      << reason;
  EXPECT_EQ(rgb, expected);
}

// Found by fuzzing (fuzz/regressions/jpeg_split/fill_bytes_before_zero.jpg, 17x1333 gray):
// 0xFF 0xFF 0x00 at byte 1065 of the scan (row of MCUs 72). libjpeg-turbo's slow Huffman path
// reads it as one stuffed 0xFF; its fast path takes it for a marker and redoes the MCU on the
// slow path, keeping the coefficients it had written. Which MCU that happens in depends on how
// far the bit reader had read ahead, so resume streams from rows 12-21, 24 and 51-71 gave
// other pixels in row 72 while the whole decode warned of nothing. Streams whose data holds
// such bytes are refused; the others decode to the whole image's rows; the balanced decode
// never resumes in front of them and gives the whole decode's pixels.
TEST(JpegResume, FillBytesBeforeAStuffedZeroAreNotResumed) {
  const Bytes jpeg =
      test::read_test_file("../../fuzz/regressions/jpeg_split/fill_bytes_before_zero.jpg");
  JpegRowScanner scanner;
  ASSERT_TRUE(test::open_walker(&scanner, jpeg.data(), jpeg.size()));
  const int width = scanner.width();
  const int height = scanner.height();
  const Bytes expected = whole_decode(jpeg, width, height);
  ASSERT_FALSE(expected.empty());
  const std::size_t stride = static_cast<std::size_t>(width) * 3;
  const int mcu = scanner.mcu_height();
  const std::uint8_t kFillThenZero[] = {0xFF, 0xFF, 0x00};
  int exact = 0;
  int refused = 0;
  do {
    ResumeStream stream;
    if (scanner.mcu_row() < 1 || !scanner.resume_stream(&stream)) continue;
    SCOPED_TRACE(scanner.mcu_row());
    const bool holds_fill =
        std::search(stream.tail, stream.tail + stream.tail_size, std::begin(kFillThenZero),
                    std::end(kFillThenZero)) != stream.tail + stream.tail_size;
    Bytes resumed(stride * static_cast<std::size_t>(stream.height));
    std::string reason;
    const bool ok = decode_resume_stream_rgb(stream, width, resumed.data(), &reason);
    EXPECT_EQ(ok, !holds_fill) << reason;
    if (ok) {
      const int from = (scanner.mcu_row() + 1) * mcu;
      EXPECT_EQ(std::memcmp(resumed.data() + 2 * mcu * stride, expected.data() + from * stride,
                            static_cast<std::size_t>(height - from) * stride),
                0);
      ++exact;
    } else {
      EXPECT_EQ(reason, kFillBeforeZeroReason);
      ++refused;
    }
  } while (scanner.skip_row());
  EXPECT_GE(refused, 71);
  EXPECT_GT(exact, 50);
  const JpegSplitPlan plan = test::plan_of(jpeg);
  ASSERT_TRUE(plan.splittable);
  for (int run = 0; run < 8; ++run) {
    Bytes rgb(expected.size());
    std::string reason;
    int second_from = 0;
    ASSERT_TRUE(
        balanced_decode_jpeg_rgb(jpeg.data(), jpeg.size(), plan, rgb.data(), &reason, &second_from))
        << reason;
    EXPECT_TRUE(second_from == 0 || second_from > 72 * mcu) << second_from;
    EXPECT_EQ(rgb, expected);
    auto image = decode_image(jpeg.data(), jpeg.size());
    ASSERT_TRUE(image.has_value());
    EXPECT_TRUE(
        std::equal(expected.begin(), expected.end(), image->pixels.begin(), image->pixels.end()));
  }
}

}  // namespace
}  // namespace rvae::codec_detail

#endif  // RVAE_HAVE_JPEG_SPLIT
