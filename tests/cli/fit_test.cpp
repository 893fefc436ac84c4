// Photos whose sides are not multiples of 8: refused by default with the fix in the message;
// --fit crop takes the centred part, --fit resize resamples (Lanczos) to the rounded-down sides.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli_support.hpp"
#include "rvae/image_resize.hpp"
#include "support/test_data.hpp"

namespace rvae::cli_test {
namespace {

using ::testing::HasSubstr;
using testing_support::smooth_image;

Bytes bytes_of(const Tensor& tensor) {
  return Bytes(tensor.data(), tensor.data() + tensor.size_bytes());
}

class CliFitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(serve_.url().empty());
    ASSERT_TRUE(write_image(dir_ / "odd.png", smooth_image(60, 44)));  // -> 56x40
  }
  Outcome encode(const std::string& image, const std::string& out,
                 std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {kRvae,  "encode",     "--model",
                                     "sd15", "--endpoint", serve_.url() + "sd15/encode/"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.insert(argv.end(), {image, "-o", out});
    return run(argv);
  }
  Tensor latents(const std::string& path) { return read_npy(path).value(); }

  Serve serve_;
  TempDir dir_;
};

TEST_F(CliFitTest, OddSidesAreRefusedWithTheFixByDefault) {
  const Outcome refused = encode(dir_ / "odd.png", dir_ / "z.npy");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("60x44"));
  EXPECT_THAT(refused.err, HasSubstr("multiples of 8"));
  EXPECT_THAT(refused.err, HasSubstr("--fit crop"));
  EXPECT_THAT(refused.err, HasSubstr("--fit resize"));
  EXPECT_THAT(refused.err, HasSubstr("56x40"));
  EXPECT_FALSE(exists(dir_ / "z.npy"));
  const Outcome help = run({kRvae, "encode", "--help"});
  EXPECT_THAT(help.out, HasSubstr("Lanczos"));  // The filter is stated.
}

TEST_F(CliFitTest, CropEncodesTheCentredPart) {
  const Outcome cropped = encode(dir_ / "odd.png", dir_ / "crop.npy", {"--fit", "crop"});
  ASSERT_EQ(cropped.exit_code, 0) << cropped.err;
  const Image source = read_image(dir_ / "odd.png").value();
  ASSERT_TRUE(write_image(dir_ / "centre.png", crop_image(source, 2, 2, 56, 40).value()));
  ASSERT_EQ(encode(dir_ / "centre.png", dir_ / "centre.npy").exit_code, 0);
  const Tensor got = latents(dir_ / "crop.npy");
  EXPECT_EQ(got.shape(), (Shape{1, 4, 5, 7}));
  EXPECT_EQ(bytes_of(got), bytes_of(latents(dir_ / "centre.npy")));
}

TEST_F(CliFitTest, ResizeEncodesTheLanczosResampledImage) {
  const Outcome resized = encode(dir_ / "odd.png", dir_ / "resize.npy", {"--fit", "resize"});
  ASSERT_EQ(resized.exit_code, 0) << resized.err;
  const Image source = read_image(dir_ / "odd.png").value();
  const Image expected = resize_image_lanczos(source, 56, 40).value();
  ASSERT_TRUE(write_image(dir_ / "lanczos.png", expected));
  ASSERT_EQ(encode(dir_ / "lanczos.png", dir_ / "lanczos.npy").exit_code, 0);
  const Tensor got = latents(dir_ / "resize.npy");
  EXPECT_EQ(got.shape(), (Shape{1, 4, 5, 7}));
  EXPECT_EQ(bytes_of(got), bytes_of(latents(dir_ / "lanczos.npy")));
  // Resizing keeps the whole picture: the corners stay the source's corners (a crop would not).
  EXPECT_NEAR(expected.pixels[0], source.pixels[0], 3);
  const std::size_t last = expected.pixels.size() - 3;
  EXPECT_NEAR(expected.pixels[last], source.pixels[source.pixels.size() - 3], 3);
  ASSERT_EQ(encode(dir_ / "odd.png", dir_ / "crop.npy", {"--fit", "crop"}).exit_code, 0);
  EXPECT_NE(bytes_of(got), bytes_of(latents(dir_ / "crop.npy")));
}

TEST(ImageResizeTest, LanczosKeepsFlatImagesFlatAndSameSizeUnchanged) {
  Image flat{30, 20, 3, Bytes(30 * 20 * 3, 77)};
  const Image smaller = resize_image_lanczos(flat, 16, 8).value();
  for (std::uint8_t level : smaller.pixels)
    ASSERT_EQ(level, 77);
  const Image larger = resize_image_lanczos(flat, 64, 48).value();
  for (std::uint8_t level : larger.pixels)
    ASSERT_EQ(level, 77);
  const Image same = resize_image_lanczos(smooth_image(24, 16), 24, 16).value();
  EXPECT_EQ(same.pixels, smooth_image(24, 16).pixels);
  EXPECT_FALSE(resize_image_lanczos(flat, 0, 8));
  EXPECT_FALSE(crop_image(flat, 20, 0, 16, 8));
}

TEST(CliFitTest2, TinyImagesCannotBeFitted) {
  Serve serve;
  TempDir dir;
  ASSERT_TRUE(write_image(dir / "tiny.png", gradient_image(6, 20)));
  const Outcome tiny = run({kRvae, "encode", "--fit", "resize", "--endpoint",
                            serve.url() + "sd15/encode/", dir / "tiny.png", "-o", dir / "t.npy"});
  EXPECT_EQ(tiny.exit_code, 1);
  EXPECT_THAT(tiny.err, HasSubstr("at least 8"));
}

}  // namespace
}  // namespace rvae::cli_test
