// The two-thread JPEG decode gives the same pixels as libjpeg-turbo's whole-image decode for
// every layout it accepts and every split row, refuses corrupt data in either part, and is
// used only when a core is free.
#include "codec/jpeg_split.hpp"

#if defined(RVAE_HAVE_JPEG_SPLIT)

#include <gtest/gtest.h>
#include <turbojpeg.h>

#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <jpeglib.h>

#include "codec/jpeg_backend.hpp"
#include "codec_test_util.hpp"
#include "rvae/image.hpp"

namespace rvae::codec_detail {
namespace {

struct Layout {
  const char* name;
  int components = 3;
  int luma_h = 2;  // sampling factors of the first component; the others are 1x1
  int luma_v = 2;
  int restart_rows = 0;  // a restart marker every this many MCU rows (0: none)
  bool progressive = false;
  int quality = 75;
};

// A photo-like test card: smooth gradients plus noise, so the Huffman data is dense and every
// block differs.
std::vector<std::uint8_t> test_card(int width, int height, int components, unsigned seed) {
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> noise(-40, 40);
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
Bytes compress(const Layout& layout, int width, int height, unsigned seed = 1) {
  const std::vector<std::uint8_t> pixels = test_card(width, height, layout.components, seed);
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

// The reference: TurboJPEG's whole-image decode, as decode_image runs it without a free core.
Bytes whole_decode(const Bytes& jpeg, int width, int height) {
  tjhandle handle = tjInitDecompress();
  Bytes rgb(static_cast<std::size_t>(width) * height * 3);
  const int status = tjDecompress2(handle, jpeg.data(), static_cast<unsigned long>(jpeg.size()),
                                   rgb.data(), width, 0, height, TJPF_RGB, TJFLAG_STOPONWARNING);
  tjDestroy(handle);
  if (status != 0) rgb.clear();
  return rgb;
}

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

const Layout kSplittable[] = {
    {"ycc420", 3, 2, 2},
    {"ycc444", 3, 1, 1},
    {"ycc422", 3, 2, 1},
    {"ycc440", 3, 1, 2},
    {"gray", 1, 1, 1},
    {"ycc420_restarts", 3, 2, 2, 1},
    {"ycc444_restarts_every_3_rows", 3, 1, 1, 3},
    {"ycc420_q95", 3, 2, 2, 0, false, 95},
};

TEST(JpegSplit, EverySplitRowGivesTheWholeImageDecode) {
  // Odd sizes, so the last MCU row and column are partial.
  for (const Layout& layout : kSplittable) {
    SCOPED_TRACE(layout.name);
    const int width = 203;
    const int height = 171;
    const Bytes jpeg = compress(layout, width, height);
    const JpegSplitPlan plan = plan_jpeg_split(jpeg.data(), jpeg.size());
    ASSERT_TRUE(plan.splittable);
    EXPECT_EQ(plan.width, width);
    EXPECT_EQ(plan.height, height);
    EXPECT_EQ(plan.mcu_rows, 8 * layout.luma_v);
    const Bytes expected = whole_decode(jpeg, width, height);
    ASSERT_FALSE(expected.empty());
    for (int row = plan.mcu_rows; row < height; row += plan.mcu_rows) {
      SCOPED_TRACE("split at row " + std::to_string(row));
      JpegSplitPlan at = plan;
      at.split_row = row;
      Bytes rgb(expected.size(), 0x5A);
      std::string reason;
      ASSERT_TRUE(split_decode_jpeg_rgb(jpeg.data(), jpeg.size(), at, rgb.data(), &reason))
          << reason;
      ASSERT_EQ(rgb, expected);
    }
  }
}

TEST(JpegSplit, TestPhotosDecodeAsWholeImages) {
  for (const char* name : {"rocket.jpg", "hubble_deep_field.jpg", "retina.jpg"}) {
    SCOPED_TRACE(name);
    const Bytes jpeg = test::read_test_file(name);
    const JpegSplitPlan plan = plan_jpeg_split(jpeg.data(), jpeg.size());
    ASSERT_TRUE(plan.splittable);
    const Bytes expected = whole_decode(jpeg, plan.width, plan.height);
    ASSERT_FALSE(expected.empty());
    Bytes rgb(expected.size());
    std::string reason;
    ASSERT_TRUE(split_decode_jpeg_rgb(jpeg.data(), jpeg.size(), plan, rgb.data(), &reason))
        << reason;
    EXPECT_EQ(rgb, expected);
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
    EXPECT_FALSE(plan_jpeg_split(jpeg.data(), jpeg.size()).splittable);
    // decode_image still decodes them, on one thread.
    auto image = decode_image(jpeg.data(), jpeg.size());
    ASSERT_TRUE(image.has_value()) << image.error().message();
    EXPECT_EQ(image->pixels, whole_decode(jpeg, 256, 256));
  }
  // Too short for two MCU rows on each side of a split.
  const Bytes short_jpeg = compress(kSplittable[0], 256, 63);
  EXPECT_FALSE(plan_jpeg_split(short_jpeg.data(), short_jpeg.size()).splittable);
  const Bytes tall_enough = compress(kSplittable[0], 256, 64);
  EXPECT_TRUE(plan_jpeg_split(tall_enough.data(), tall_enough.size()).splittable);
  // Not a JPEG libjpeg reads.
  const Bytes garbage = {0xFF, 0xD8, 0xFF, 0xD9};
  EXPECT_FALSE(plan_jpeg_split(garbage.data(), garbage.size()).splittable);
  EXPECT_FALSE(plan_jpeg_split(garbage.data(), 0).splittable);
}

TEST(JpegSplit, SplitRowIsPastHalfOnAnMcuRow) {
  // The second thread reads the first part's Huffman data again, so it gets fewer rows.
  for (const Layout& layout : {kSplittable[0], kSplittable[1]}) {
    SCOPED_TRACE(layout.name);
    const Bytes jpeg = compress(layout, 320, 1000);
    const JpegSplitPlan plan = plan_jpeg_split(jpeg.data(), jpeg.size());
    ASSERT_TRUE(plan.splittable);
    EXPECT_EQ(plan.split_row % plan.mcu_rows, 0);
    EXPECT_GT(plan.split_row, 600);
    EXPECT_LT(plan.split_row, 700);
  }
}

TEST(JpegSplit, SmallImagesAndBusyCoresAreNotSplit) {
  EXPECT_FALSE(worth_splitting(256, 256));
  if (std::thread::hardware_concurrency() >= 2) {
    EXPECT_TRUE(worth_splitting(1024, 1024));
  }
  AllCoresBusy busy;
  EXPECT_FALSE(worth_splitting(1024, 1024));
}

// Puts a marker (RST5, in a file without restart markers) into the entropy data at `fraction`
// of the way through the scan: libjpeg then warns of corrupt data.
Bytes corrupt_at(Bytes jpeg, double fraction) {
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

TEST(JpegSplit, CorruptDataInEitherPartFailsTheSplitDecode) {
  const Bytes jpeg = compress(kSplittable[0], 512, 512);
  const JpegSplitPlan plan = plan_jpeg_split(jpeg.data(), jpeg.size());
  ASSERT_TRUE(plan.splittable);
  for (double fraction : {0.1, 0.9}) {
    SCOPED_TRACE(fraction);
    const Bytes bad = corrupt_at(jpeg, fraction);
    ASSERT_TRUE(whole_decode(bad, 512, 512).empty()) << "the corruption must be detectable";
    Bytes rgb(512 * 512 * 3);
    std::string reason;
    EXPECT_FALSE(split_decode_jpeg_rgb(bad.data(), bad.size(), plan, rgb.data(), &reason));
    EXPECT_NE(reason.find("Corrupt JPEG data"), std::string::npos) << reason;
  }
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

TEST(JpegSplit, TruncatedSecondPartFails) {
  const Bytes jpeg = compress(kSplittable[0], 512, 512);
  const JpegSplitPlan plan = plan_jpeg_split(jpeg.data(), jpeg.size());
  ASSERT_TRUE(plan.splittable);
  const Bytes cut(jpeg.begin(), jpeg.begin() + static_cast<std::ptrdiff_t>(jpeg.size() * 9 / 10));
  Bytes rgb(512 * 512 * 3);
  std::string reason;
  EXPECT_FALSE(split_decode_jpeg_rgb(cut.data(), cut.size(), plan, rgb.data(), &reason));
  EXPECT_FALSE(reason.empty());
}

TEST(JpegSplit, RowRangesOutsideTheImageAreRefused) {
  const Bytes jpeg = compress(kSplittable[0], 128, 128);
  Bytes rgb(128 * 128 * 3);
  std::string reason;
  EXPECT_FALSE(decode_jpeg_rows(jpeg.data(), jpeg.size(), 0, 129, rgb.data(), 128 * 3, &reason));
  EXPECT_EQ(reason, "rows outside the image");
  EXPECT_FALSE(decode_jpeg_rows(jpeg.data(), jpeg.size(), 64, 64, rgb.data(), 128 * 3, &reason));
  EXPECT_EQ(reason, "no rows to decode");
  JpegSplitPlan plan = plan_jpeg_split(jpeg.data(), jpeg.size());
  plan.split_row = 128;
  EXPECT_FALSE(split_decode_jpeg_rgb(jpeg.data(), jpeg.size(), plan, rgb.data(), &reason));
  EXPECT_EQ(reason, "not a splittable JPEG");
}

}  // namespace
}  // namespace rvae::codec_detail

#endif  // RVAE_HAVE_JPEG_SPLIT
