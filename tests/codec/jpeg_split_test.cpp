// The two-thread JPEG decode gives the same pixels as libjpeg-turbo's whole-image decode for
// every layout it accepts and wherever the second thread takes over, refuses corrupt data in
// either part, plans from the header scan_jpeg read, and is used only when a core is free.
#include "codec/jpeg_split.hpp"

#if defined(RVAE_HAVE_JPEG_SPLIT)

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "codec/image_layout.hpp"
#include "codec/jpeg_backend.hpp"
#include "codec/jpeg_resume.hpp"
#include "codec_test_util.hpp"
#include "jpeg_test_util.hpp"
#include "rvae/image.hpp"

namespace rvae::codec_detail {
namespace {

using test::compress;
using test::corrupt_at;
using test::kSplittable;
using test::Layout;
using test::whole_decode;

// Holds every core "busy", so decode_image takes the whole-image path while it lives.
class AllCoresBusy {
 public:
  AllCoresBusy() {
    for (unsigned i = 0; i < std::max(1u, std::thread::hardware_concurrency()); ++i) {
      held_.push_back(std::make_unique<RunningJpegDecode>());
    }
  }

 private:
  std::vector<std::unique_ptr<RunningJpegDecode>> held_;
};

// The second thread's decode from every row of MCUs it could take over at: the resume stream
// the walker writes there, decoded as the balanced decode does, gives the whole image's rows.
TEST(JpegSplit, EveryTakeOverRowGivesTheWholeImageDecode) {
  // Odd sizes, so the last MCU row and column are partial.
  for (const Layout& layout : kSplittable) {
    SCOPED_TRACE(layout.name);
    const int width = 203;
    const int height = 171;
    const Bytes jpeg = compress(layout, width, height);
    const JpegSplitPlan plan = test::plan_of(jpeg);
    ASSERT_TRUE(plan.splittable);
    EXPECT_EQ(plan.width, width);
    EXPECT_EQ(plan.height, height);
    EXPECT_EQ(plan.mcu_rows, 8 * layout.luma_v);
    const Bytes expected = whole_decode(jpeg, width, height);
    ASSERT_FALSE(expected.empty());
    const auto stride = static_cast<std::ptrdiff_t>(width) * 3;
    JpegRowScanner scanner;
    ASSERT_TRUE(scanner.open(jpeg.data(), jpeg.size(), plan.header));
    int resumed_rows = 0;
    while (scanner.skip_row() && scanner.mcu_row() < scanner.mcu_rows_total() - 1) {
      const int from = (scanner.mcu_row() + 1) * plan.mcu_rows;
      SCOPED_TRACE("second thread from row " + std::to_string(from));
      ResumeStream stream;
      ASSERT_TRUE(scanner.resume_stream(&stream));
      Bytes rgb(static_cast<std::size_t>(stride * stream.height), 0x5A);
      std::string reason;
      ASSERT_TRUE(decode_resume_stream_rgb(stream, width, rgb.data(), &reason)) << reason;
      ASSERT_TRUE(std::equal(rgb.begin() + 2 * plan.mcu_rows * stride, rgb.end(),
                             expected.begin() + from * stride, expected.end()));
      ++resumed_rows;
    }
    EXPECT_EQ(resumed_rows, scanner.mcu_rows_total() - 2);
  }
}

// The boundary the threads settle on depends on timing, so each layout runs several times; the
// pixels must not depend on it.
TEST(JpegSplit, BalancedDecodeGivesTheWholeImageDecode) {
  for (const Layout& layout : kSplittable) {
    for (const auto& [width, height] : {std::pair{203, 171}, std::pair{640, 512}}) {
      SCOPED_TRACE(std::string(layout.name) + " " + std::to_string(width));
      const Bytes jpeg = compress(layout, width, height);
      const JpegSplitPlan plan = test::plan_of(jpeg);
      ASSERT_TRUE(plan.splittable);
      const Bytes expected = whole_decode(jpeg, width, height);
      ASSERT_FALSE(expected.empty());
      for (int run = 0; run < 4; ++run) {
        Bytes rgb(expected.size(), 0x5A);
        std::string reason;
        int second_from = -1;
        ASSERT_TRUE(balanced_decode_jpeg_rgb(jpeg.data(), jpeg.size(), plan, rgb.data(), &reason,
                                             &second_from))
            << reason;
        ASSERT_EQ(rgb, expected);
        // 0: the first thread decoded everything. Otherwise a row of MCUs, and past half
        // (the second thread starts there only when the first still has as many rows to do).
        EXPECT_EQ(second_from % plan.mcu_rows, 0);
        EXPECT_LT(second_from, height);
        if (second_from != 0) {
          EXPECT_GT(2 * second_from, height) << second_from;
        }
      }
    }
  }
}

// The walker does not follow restart intervals: such files are not split, and decode_image
// decodes them on one thread with the same pixels.
TEST(JpegSplit, RestartIntervalsDecodeOnOneThread) {
  for (const Layout& layout : test::kWithRestarts) {
    SCOPED_TRACE(layout.name);
    const Bytes jpeg = compress(layout, 640, 512);
    const JpegSplitPlan plan = test::plan_of(jpeg);
    EXPECT_FALSE(plan.splittable);
    Bytes rgb(640 * 512 * 3);
    std::string reason;
    EXPECT_FALSE(
        balanced_decode_jpeg_rgb(jpeg.data(), jpeg.size(), plan, rgb.data(), &reason, nullptr));
    EXPECT_EQ(reason, "not a splittable JPEG");
    const std::uint64_t before = split_decodes_started();
    auto image = decode_image(jpeg.data(), jpeg.size());
    ASSERT_TRUE(image.has_value()) << image.error().message();
    EXPECT_EQ(split_decodes_started(), before);
    EXPECT_EQ(image->pixels, whole_decode(jpeg, 640, 512));
  }
}

TEST(JpegSplit, BalancedDecodeOfTheTestPhotos) {
  for (const char* name : {"rocket.jpg", "hubble_deep_field.jpg", "retina.jpg"}) {
    SCOPED_TRACE(name);
    const Bytes jpeg = test::read_test_file(name);
    const JpegSplitPlan plan = test::plan_of(jpeg);
    ASSERT_TRUE(plan.splittable);
    const Bytes expected = whole_decode(jpeg, plan.width, plan.height);
    ASSERT_FALSE(expected.empty());
    Bytes rgb(expected.size());
    std::string reason;
    ASSERT_TRUE(
        balanced_decode_jpeg_rgb(jpeg.data(), jpeg.size(), plan, rgb.data(), &reason, nullptr))
        << reason;
    EXPECT_EQ(rgb, expected);
  }
}

TEST(JpegSplit, BalancedDecodeFailsOnCorruptOrTruncatedData) {
  const Bytes jpeg = compress(kSplittable[0], 512, 512);
  const JpegSplitPlan plan = test::plan_of(jpeg);
  ASSERT_TRUE(plan.splittable);
  Bytes rgb(512 * 512 * 3);
  for (double fraction : {0.1, 0.5, 0.9}) {
    SCOPED_TRACE(fraction);
    const Bytes bad = corrupt_at(jpeg, fraction);
    ASSERT_TRUE(whole_decode(bad, 512, 512).empty()) << "the corruption must be detectable";
    std::string reason;
    EXPECT_FALSE(
        balanced_decode_jpeg_rgb(bad.data(), bad.size(), plan, rgb.data(), &reason, nullptr));
    EXPECT_NE(reason.find("Corrupt JPEG data"), std::string::npos) << reason;
  }
  const Bytes cut(jpeg.begin(), jpeg.begin() + static_cast<std::ptrdiff_t>(jpeg.size() * 9 / 10));
  std::string reason;
  EXPECT_FALSE(
      balanced_decode_jpeg_rgb(cut.data(), cut.size(), plan, rgb.data(), &reason, nullptr));
  EXPECT_FALSE(reason.empty());
  JpegSplitPlan not_splittable = plan;
  not_splittable.splittable = false;
  EXPECT_FALSE(balanced_decode_jpeg_rgb(jpeg.data(), jpeg.size(), not_splittable, rgb.data(),
                                        &reason, nullptr));
  EXPECT_EQ(reason, "not a splittable JPEG");
}

// Stray bytes between the last MCU and EOI: libjpeg warns about them unless its bit reader
// read them ahead, and the resumed part reads ahead by other amounts than a whole decode. A
// few such bytes may therefore be accepted (with the whole decode's pixels) or refused by
// the balanced decode where the whole decode does the opposite; more than the reader can hold
// ahead (8 bytes) are refused by both. fuzz/regressions/jpeg_split/bytes_after_last_mcu.jpg
TEST(JpegSplit, BytesAfterTheLastMcu) {
  const Bytes jpeg = compress(kSplittable[0], 640, 512);
  ASSERT_EQ(jpeg[jpeg.size() - 2], 0xFF);
  const JpegSplitPlan plan = test::plan_of(jpeg);
  ASSERT_TRUE(plan.splittable);
  const Bytes expected = whole_decode(jpeg, 640, 512);
  for (const std::size_t stray :
       {std::size_t{1}, std::size_t{3}, std::size_t{8}, std::size_t{16}}) {
    SCOPED_TRACE(stray);
    Bytes padded(jpeg.begin(), jpeg.end() - 2);
    padded.insert(padded.end(), stray, 0x5A);
    padded.push_back(0xFF);
    padded.push_back(0xD9);
    for (int run = 0; run < 4; ++run) {
      Bytes rgb(expected.size());
      std::string reason;
      if (balanced_decode_jpeg_rgb(padded.data(), padded.size(), plan, rgb.data(), &reason,
                                   nullptr)) {
        EXPECT_LE(stray, 8u);
        EXPECT_EQ(rgb, expected);
      } else {
        EXPECT_NE(reason.find("extraneous bytes before marker 0xd9"), std::string::npos) << reason;
      }
    }
    if (stray > 8) {
      EXPECT_TRUE(whole_decode(padded, 640, 512).empty());
      auto image = decode_image(padded.data(), padded.size());
      ASSERT_FALSE(image.has_value());
      EXPECT_NE(image.error().message().find("extraneous bytes"), std::string::npos)
          << image.error().message();
    }
  }
}

TEST(JpegSplit, DecodeImageGivesTheSamePixelsWithAndWithoutAFreeCore) {
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "one core: decodes never split";
  const Bytes jpeg = compress(kSplittable[0], 640, 512);
  const std::uint64_t before = split_decodes_started();
  auto split = decode_image(jpeg.data(), jpeg.size());
  ASSERT_TRUE(split.has_value()) << split.error().message();
  EXPECT_EQ(split_decodes_started(), before + 1);
  ImageDecodeOptions one_thread;
  one_thread.max_threads = 1;
  auto single = decode_image(jpeg.data(), jpeg.size(), one_thread);
  ASSERT_TRUE(single.has_value()) << single.error().message();
  AllCoresBusy busy;
  auto whole = decode_image(jpeg.data(), jpeg.size());
  ASSERT_TRUE(whole.has_value()) << whole.error().message();
  EXPECT_EQ(split_decodes_started(), before + 1) << "max_threads 1 or busy cores still split";
  EXPECT_EQ(split->pixels, whole->pixels);
  EXPECT_EQ(single->pixels, whole->pixels);
  EXPECT_EQ(split->pixels, whole_decode(jpeg, 640, 512));
}

TEST(JpegSplit, OtherLayoutsAreNotSplit) {
  const Layout progressive{"progressive", 3, 2, 2, 0, true};
  const Layout four_to_one{"ycc411", 3, 4, 1};
  for (const Layout& layout : {progressive, four_to_one}) {
    SCOPED_TRACE(layout.name);
    const Bytes jpeg = compress(layout, 256, 256);
    EXPECT_FALSE(test::plan_of(jpeg).splittable);
    // decode_image still decodes them, on one thread.
    auto image = decode_image(jpeg.data(), jpeg.size());
    ASSERT_TRUE(image.has_value()) << image.error().message();
    EXPECT_EQ(image->pixels, whole_decode(jpeg, 256, 256));
  }
  // Too short for two MCU rows on each side of a split.
  const Bytes short_jpeg = compress(kSplittable[0], 256, 63);
  EXPECT_FALSE(test::plan_of(short_jpeg).splittable);
  const Bytes tall_enough = compress(kSplittable[0], 256, 64);
  EXPECT_TRUE(test::plan_of(tall_enough).splittable);
  // Not a JPEG with a frame and a scan.
  const Bytes garbage = {0xFF, 0xD8, 0xFF, 0xD9};
  EXPECT_FALSE(test::plan_of(garbage).splittable);
  EXPECT_FALSE(plan_jpeg_split(test::header_of(garbage.data(), 0)).splittable);
}

TEST(JpegSplit, SmallImagesAndBusyCoresAreNotSplit) {
  EXPECT_FALSE(worth_splitting(256, 256));
  if (std::thread::hardware_concurrency() >= 2) {
    EXPECT_TRUE(worth_splitting(1024, 1024));
  }
  AllCoresBusy busy;
  EXPECT_FALSE(worth_splitting(1024, 1024));
}

TEST(JpegSplit, DecodeImageReportsCorruptDataAsTheWholeDecodeDoes) {
  const Bytes bad = corrupt_at(compress(kSplittable[0], 640, 640), 0.8);
  const auto split = decode_image(bad.data(), bad.size());
  ASSERT_FALSE(split.has_value());
  AllCoresBusy busy;
  const auto whole = decode_image(bad.data(), bad.size());
  ASSERT_FALSE(whole.has_value());
  EXPECT_EQ(split.error().code(), whole.error().code());
  EXPECT_EQ(split.error().message(), whole.error().message());
}

// The plan is the header scan_jpeg read; libjpeg's own reading of the same bytes must agree,
// or the first thread stops and the caller decodes the whole image.
TEST(JpegSplit, PlansFromTheScannedHeader) {
  const Bytes jpeg = compress(kSplittable[0], 640, 512);
  const ImageLayout layout = scan_jpeg(jpeg.data(), jpeg.size());
  ASSERT_FALSE(layout.problem.has_value());
  const JpegSplitPlan plan = plan_jpeg_split(layout.jpeg);
  ASSERT_TRUE(plan.splittable);
  EXPECT_EQ(static_cast<std::uint32_t>(plan.width), layout.width);
  EXPECT_EQ(static_cast<std::uint32_t>(plan.height), layout.height);
  EXPECT_EQ(plan.mcu_rows, 16);
  const Bytes other = compress(kSplittable[0], 640, 480);
  Bytes rgb(640 * 512 * 3);
  std::string reason;
  EXPECT_FALSE(
      balanced_decode_jpeg_rgb(other.data(), other.size(), plan, rgb.data(), &reason, nullptr));
  EXPECT_EQ(reason, "libjpeg read another size than the plan");
}

}  // namespace
}  // namespace rvae::codec_detail

#endif  // RVAE_HAVE_JPEG_SPLIT
