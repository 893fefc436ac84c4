// What the CLI says when things go wrong: flags and files, never the library's C++ names; the
// HTTP status once; a used port named as such.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "cli_support.hpp"

namespace rvae::cli_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// kMp4, kUInt8, DecodeOptions, ClientOptions::max_reply_bytes, ...
void expect_no_cpp_names(const std::string& text) {
  static const std::regex kIdentifier(
      R"(\bk[A-Z][A-Za-z0-9]+\b|\b(Decode|Encode|Client|Batch|Preview)Options\b|::)");
  std::smatch match;
  EXPECT_FALSE(std::regex_search(text, match, kIdentifier))
      << "'" << match.str() << "' in: " << text;
}

TEST(CliMessagesTest, ShapeProblemsSpeakOfFlagsAndFiles) {
  Serve serve;
  ASSERT_FALSE(serve.url().empty());
  TempDir dir;
  const Tensor video = Tensor::zeros({1, 16, 2, 1, 2}, DType::kFloat32).value();
  ASSERT_TRUE(write_npy(dir / "video.npy", video.view()));
  const Outcome to_png =
      run({kRvae, "decode", "--model", "hunyuan-video", "--endpoint",
           serve.url() + "hunyuan-video/decode/", dir / "video.npy", "-o", dir / "v.png"});
  EXPECT_EQ(to_png.exit_code, 1);
  EXPECT_THAT(to_png.err, HasSubstr("-o OUT.mp4"));
  expect_no_cpp_names(to_png.err);

  const Tensor packed = Tensor::zeros({1, 4, 64}, DType::kFloat32).value();
  ASSERT_TRUE(write_npy(dir / "packed.npy", packed.view()));
  const Outcome no_size =
      run({kRvae, "decode", "--model", "flux", "--endpoint", serve.url() + "flux/decode/",
           dir / "packed.npy", "-o", dir / "p.png"});
  EXPECT_EQ(no_size.exit_code, 1);
  EXPECT_THAT(no_size.err, HasSubstr("--height H --width W"));
  expect_no_cpp_names(no_size.err);

  const Tensor batch = Tensor::zeros({2, 4, 2, 2}, DType::kFloat32).value();
  ASSERT_TRUE(write_npy(dir / "batch.npy", batch.view()));
  const Outcome one_image =
      run({kRvae, "decode", "--model", "sd15", "--endpoint", serve.url() + "sd15/decode/",
           dir / "batch.npy", "-o", dir / "b.png"});
  EXPECT_EQ(one_image.exit_code, 1);
  EXPECT_THAT(one_image.err, HasSubstr("-o DIR/"));
  expect_no_cpp_names(one_image.err);

  const Tensor image = Tensor::zeros({1, 4, 2, 2}, DType::kFloat32).value();
  ASSERT_TRUE(write_npy(dir / "image.npy", image.view()));
  const Outcome to_mp4 =
      run({kRvae, "decode", "--model", "sd15", "--endpoint", serve.url() + "sd15/decode/",
           dir / "image.npy", "-o", dir / "i.mp4"});
  EXPECT_EQ(to_mp4.exit_code, 1);
  expect_no_cpp_names(to_mp4.err);
}

TEST(CliMessagesTest, HttpStatusIsSaidOnce) {
  Serve serve;
  ASSERT_FALSE(serve.url().empty());
  TempDir dir;
  const Tensor five = Tensor::zeros({1, 5, 2, 2}, DType::kFloat32).value();
  ASSERT_TRUE(write_npy(dir / "five.npy", five.view()));
  const Outcome refused = run({kRvae, "decode", "--endpoint", serve.url() + "sdxl/decode/",
                               dir / "five.npy", "-o", dir / "out.png"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("HTTP 400"));
  EXPECT_THAT(refused.err, Not(HasSubstr("(HTTP 400)")));
  const std::size_t first = refused.err.find("HTTP 400");
  EXPECT_EQ(refused.err.find("HTTP 400", first + 1), std::string::npos) << refused.err;
  expect_no_cpp_names(refused.err);
}

TEST(CliMessagesTest, ServeOnAUsedPortSaysAddressAlreadyInUse) {
  Serve first;
  ASSERT_FALSE(first.url().empty());
  // "http://127.0.0.1:PORT/"
  const std::string port = first.url().substr(first.url().rfind(':') + 1,
                                              first.url().size() - first.url().rfind(':') - 2);
  const Outcome second =
      run({kRvae, "serve", "--port", port}, {}, kNoInput, std::chrono::seconds(20));
  ASSERT_FALSE(second.timed_out) << "a second server started on a used port";
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_THAT(second.err, HasSubstr("address already in use"));
  EXPECT_THAT(second.err, HasSubstr("--port"));
  expect_no_cpp_names(second.err);
}

TEST(CliMessagesTest, UsageErrorsNameTheFlag) {
  TempDir dir;
  const Outcome fit =
      run({kRvae, "encode", "--fit", "stretch", dir / "a.png", "-o", dir / "a.npy"});
  EXPECT_EQ(fit.exit_code, 2);
  EXPECT_THAT(fit.err, HasSubstr("--fit must be crop or resize"));
  const Outcome output = run({kRvae, "decode", dir / "a.npy", "-o", dir / "a.gif"});
  EXPECT_EQ(output.exit_code, 2);
  expect_no_cpp_names(output.err);
  const Outcome token = run({kRvae, "decode", "--token", "secret", dir / "a.npy", "-o", "x.png"});
  EXPECT_EQ(token.exit_code, 2);  // A token on the command line would show in ps.
  EXPECT_THAT(token.err, HasSubstr("unknown option --token"));
}

}  // namespace
}  // namespace rvae::cli_test
