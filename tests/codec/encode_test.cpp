// encode_png, encode_jpeg and write_image.
#ifndef _WIN32
#include <sys/stat.h>
#include <unistd.h>
#endif

#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "codec/codec_test_util.hpp"
#include "rvae/image.hpp"
#include "support/temp_dir.hpp"

namespace rvae {
namespace {

using test::mean_abs_rgb_diff;
using test::noise_image;
using test::read_test_file;

Image load(const char* file) {
  const Bytes bytes = read_test_file(file);
  return decode_image(bytes.data(), bytes.size()).value();
}

Image decode_bytes(const Bytes& bytes) {
  return decode_image(bytes.data(), bytes.size()).value();
}

TEST(EncodePng, RoundTripIsBitExact) {
  for (const Image& image : {load("astronaut.png"), load("logo.png"), noise_image(7, 5, 3, 11),
                             noise_image(1, 1, 4, 12), noise_image(33, 1, 4, 13)}) {
    SCOPED_TRACE(std::to_string(image.width) + "x" + std::to_string(image.height) + "x" +
                 std::to_string(image.channels));
    const Result<Bytes> png = encode_png(image);
    ASSERT_TRUE(png.has_value()) << png.error().what();
    ASSERT_EQ(sniff_image_format(png->data(), png->size()), ImageFormat::kPng);
    const Image back = decode_bytes(*png);
    EXPECT_EQ(back.width, image.width);
    EXPECT_EQ(back.height, image.height);
    EXPECT_EQ(back.channels, image.channels);
    EXPECT_EQ(back.pixels, image.pixels);
  }
}

TEST(EncodeJpeg, RoundTripIsCloseAtHighQuality) {
  const Image image = load("astronaut.png");
  const Result<Bytes> jpeg = encode_jpeg(image, 95);
  ASSERT_TRUE(jpeg.has_value()) << jpeg.error().what();
  ASSERT_GE(jpeg->size(), 4u);
  EXPECT_EQ((*jpeg)[0], 0xFF);
  EXPECT_EQ((*jpeg)[1], 0xD8);
  EXPECT_EQ((*jpeg)[jpeg->size() - 2], 0xFF);
  EXPECT_EQ((*jpeg)[jpeg->size() - 1], 0xD9);
  const Image back = decode_bytes(*jpeg);
  EXPECT_EQ(back.width, 512);
  EXPECT_EQ(back.height, 512);
  EXPECT_EQ(back.channels, 3);
  EXPECT_LT(mean_abs_rgb_diff(image, back), 3.0);
}

TEST(EncodeJpeg, LowerQualityGivesFewerBytesAndMoreError) {
  const Image image = load("astronaut.png");
  const Bytes q95 = encode_jpeg(image, 95).value();
  const Bytes q50 = encode_jpeg(image, 50).value();
  const Bytes q10 = encode_jpeg(image, 10).value();
  EXPECT_LT(q50.size(), q95.size());
  EXPECT_LT(q10.size(), q50.size());
  EXPECT_LT(mean_abs_rgb_diff(image, decode_bytes(q95)),
            mean_abs_rgb_diff(image, decode_bytes(q10)));
}

TEST(EncodeJpeg, QualityBoundsAreInclusive) {
  const Image image = noise_image(16, 16, 3, 5);
  EXPECT_TRUE(encode_jpeg(image, 1).has_value());
  EXPECT_TRUE(encode_jpeg(image, 100).has_value());
  for (int quality : {0, 101, -5}) {
    const Result<Bytes> result = encode_jpeg(image, quality);
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(result.error().message().find(std::to_string(quality)), std::string::npos);
  }
}

TEST(EncodeJpeg, DropsAlpha) {
  const Image rgba = load("logo.png");
  ASSERT_EQ(rgba.channels, 4);
  const Image back = decode_bytes(encode_jpeg(rgba, 95).value());
  EXPECT_EQ(back.channels, 3);
  EXPECT_LT(mean_abs_rgb_diff(to_rgb(rgba), back), 4.0);
}

void expect_both_encoders_refuse(const Image& image, ErrorCode code, const std::string& fragment) {
  for (const Result<Bytes>& result : {encode_png(image), encode_jpeg(image, 90)}) {
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code(), code) << result.error().message();
    EXPECT_NE(result.error().message().find(fragment), std::string::npos)
        << result.error().message();
  }
}

TEST(Encode, RefusesInvalidImages) {
  Image image = noise_image(4, 4, 3, 1);
  image.pixels.pop_back();
  expect_both_encoders_refuse(image, ErrorCode::kInvalidArgument, "47 bytes");
  image = noise_image(4, 4, 3, 1);
  image.channels = 1;
  expect_both_encoders_refuse(image, ErrorCode::kInvalidArgument, "1 channels");
  expect_both_encoders_refuse(Image{}, ErrorCode::kInvalidArgument, "0x0");
}

TEST(Encode, RefusesImagesAboveOneGibBeforeCheckingTheBuffer) {
  Image huge;
  huge.width = 65535;
  huge.height = 65535;
  huge.channels = 3;
  expect_both_encoders_refuse(huge, ErrorCode::kResourceExhausted, "1 GiB");
  // Exactly 1 GiB is within the limit, so the (empty) buffer is what gets refused.
  huge.width = 16384;
  huge.height = 16384;
  huge.channels = 4;
  expect_both_encoders_refuse(huge, ErrorCode::kInvalidArgument, "0 bytes");
}

// ---- write_image ----

class WriteImage : public ::testing::Test {
 protected:
  void TearDown() override {
    // A directory left read-only by a test is made writable again so it can be removed.
    std::error_code ignored;
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(temp_.fs_path(), ignored)) {
      std::filesystem::permissions(entry.path(), std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::add, ignored);
    }
  }
  std::set<std::string> entries() const {
    std::set<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(temp_.fs_path())) {
      names.insert(testing_support::TempDir::utf8(entry.path().filename()));
    }
    return names;
  }
  const testing_support::TempDir temp_{"rvae_codec_write"};
  const std::string dir_ = temp_.str();
};

TEST_F(WriteImage, ChoosesTheFormatByExtension) {
  const Image image = noise_image(9, 6, 3, 21);
  for (const char* name : {"a.png", "b.PNG", "c.jpg", "d.JPEG", "e.jpeg", "f.Jpg"}) {
    SCOPED_TRACE(name);
    const std::string path = dir_ + "/" + name;
    const Result<void> written = write_image(path, image, 100);
    ASSERT_TRUE(written.has_value()) << written.error().what();
    const Bytes bytes = [&] {
      std::ifstream in(path, std::ios::binary);
      return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }();
    const std::string lower = [&] {
      std::string s = name;
      for (char& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return s;
    }();
    const bool png = lower.find(".png") != std::string::npos;
    EXPECT_EQ(sniff_image_format(bytes.data(), bytes.size()),
              png ? ImageFormat::kPng : ImageFormat::kJpeg);
    const Image back = read_image(path).value();
    if (png) {
      EXPECT_EQ(back.pixels, image.pixels);
    }
    EXPECT_EQ(back.width, 9);
    EXPECT_EQ(back.height, 6);
  }
  // Only the six images: no temporary files left behind.
  EXPECT_EQ(entries().size(), 6u);
}

TEST_F(WriteImage, ReplacesAnExistingFile) {
  const std::string path = dir_ + "/out.png";
  ASSERT_TRUE(write_image(path, noise_image(4, 4, 3, 1)).has_value());
  const Image second = noise_image(5, 3, 4, 2);
  ASSERT_TRUE(write_image(path, second).has_value());
  EXPECT_EQ(read_image(path).value().pixels, second.pixels);
  EXPECT_EQ(entries(), (std::set<std::string>{"out.png"}));
}

TEST_F(WriteImage, RefusesUnknownExtensions) {
  const Image image = noise_image(2, 2, 3, 3);
  for (const std::string name : {"a.bmp", "noextension", "dir.png/file", "a.png.txt", "a."}) {
    SCOPED_TRACE(name);
    const Result<void> result = write_image(dir_ + "/" + name, image);
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(result.error().message().find(".png, .jpg or .jpeg"), std::string::npos);
  }
  EXPECT_TRUE(entries().empty());
}

TEST_F(WriteImage, EncodingErrorsLeaveNoFile) {
  Image bad = noise_image(2, 2, 3, 3);
  bad.pixels.clear();
  EXPECT_EQ(write_image(dir_ + "/bad.png", bad).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(write_image(dir_ + "/bad.jpg", noise_image(2, 2, 3, 3), 0).error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_TRUE(entries().empty());
}

TEST_F(WriteImage, MissingDirectoryIsNotFound) {
  const std::string path = dir_ + "/missing/out.png";
  const Result<void> result = write_image(path, noise_image(2, 2, 3, 3));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(result.error().message().find(path), std::string::npos);
}

TEST_F(WriteImage, DirectoryInTheWayIsInvalidAndCleansUp) {
  const std::string path = dir_ + "/taken.png";
  ASSERT_TRUE(std::filesystem::create_directory(std::filesystem::u8path(path)));
  const Result<void> result = write_image(path, noise_image(2, 2, 3, 3));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(result.error().message().find(path), std::string::npos);
  EXPECT_EQ(entries(), (std::set<std::string>{"taken.png"}));  // the temporary file is gone
}

TEST_F(WriteImage, UnwritableDirectoryIsPermissionDenied) {
#ifdef _WIN32
  GTEST_SKIP() << "Windows ignores a directory's read-only attribute for the files in it";
#else
  std::string path;
  if (::geteuid() == 0) {
    // root ignores mode bits; sysfs refuses file creation even to root.
    path = "/sys/rvae_codec_test.png";
  } else {
    const std::string locked = dir_ + "/locked";
    ASSERT_EQ(::mkdir(locked.c_str(), 0555), 0);
    path = locked + "/out.png";
  }
  const Result<void> result = write_image(path, noise_image(2, 2, 3, 3));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kPermissionDenied) << result.error().message();
#endif
}

}  // namespace
}  // namespace rvae
