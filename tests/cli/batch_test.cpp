// Batches as people run them: output directories with or without '/', name collisions, Ctrl-C
// mid-batch, and the script-facing forms (--json, --quiet, -o -, - for stdin).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli_support.hpp"
#include "support/scripted_server.hpp"

namespace rvae::cli_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> latents_dir(const TempDir& dir, int count) {
  make_dir(dir / "in");
  std::vector<std::string> paths;
  for (int i = 0; i < count; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "in/l%02d.npy", i);
    write_small_latents(dir / name);
    paths.push_back(dir / name);
  }
  return paths;
}

// Defect: the CLI set the client's window to --jobs, so at -j 1 a tiled input's requests went
// out one at a time. The server holds each request until all of the input's requests are in
// (or a limit passes, failing the test), so it sees whether they were all in flight at once.
TEST(CliBatchTest, OneTiledInputHasAllItsTilesInFlightWhateverJobs) {
  // 128 x 256 pixels with --tile 128 --tile-overlap 2: one row of 3 tiles, plus the colour
  // reference: 4 requests, within the scripted server's 8 threads.
  constexpr int kRequests = 4;
  testing_support::ScriptedServer server;
  std::mutex mutex;
  std::condition_variable changed;
  int arrived = 0;
  bool all_at_once = false;
  server.set_handler([&](const httplib::Request&, httplib::Response& response) {
    std::unique_lock<std::mutex> lock(mutex);
    ++arrived;
    changed.notify_all();
    if (changed.wait_for(lock, std::chrono::seconds(20), [&] { return arrived >= kRequests; })) {
      all_at_once = true;
    }
    response.status = 400;  // not retried: the decode ends once the tiles are answered
    response.set_content(R"({"error": "scripted"})", "application/json");
  });
  TempDir dir;
  const Tensor latents = Tensor::zeros({1, 4, 16, 32}, DType::kFloat32).value();
  ASSERT_TRUE(write_npy(dir / "z.npy", latents.view()));
  const Outcome decoded =
      run({kRvae, "decode", "--model", "sd15", "--endpoint", server.url(), "-j", "1", "--tile",
           "128", "--tile-overlap", "2", dir / "z.npy", "-o", dir / "z.png"});
  EXPECT_EQ(decoded.exit_code, 1) << decoded.err;
  std::lock_guard<std::mutex> lock(mutex);
  EXPECT_TRUE(all_at_once) << arrived << " requests; " << decoded.err;
  EXPECT_EQ(server.requests().size(), static_cast<std::size_t>(kRequests));
}

// Defect: with `-o out/` every request was sent and then every write failed.
TEST(CliBatchTest, OutputDirectoryWithTrailingSlashIsCreated) {
  Serve serve;
  ASSERT_FALSE(serve.url().empty());
  TempDir dir;
  latents_dir(dir, 3);
  for (const std::string out : {"slash/", "plain", "nested/deeper/"}) {
    const Outcome decoded = run({kRvae, "decode", "--model", "sd15", "--endpoint",
                                 serve.url() + "sd15/decode/", dir / "in", "-o", dir / out});
    ASSERT_EQ(decoded.exit_code, 0) << out << ": " << decoded.err;
    EXPECT_THAT(decoded.err, Not(HasSubstr("cannot write")));
    EXPECT_EQ(list_dir(dir / out), (std::vector<std::string>{"l00.png", "l01.png", "l02.png"}))
        << out;
    // "wrote" names the file once, with one slash.
    EXPECT_THAT(decoded.out, Not(HasSubstr("//")));
  }
  make_dir(dir / "img");
  ASSERT_TRUE(write_image(dir / "img/a.png", gradient_image(16, 16)));
  ASSERT_TRUE(write_image(dir / "img/b.png", gradient_image(16, 8)));
  const Outcome encoded = run({kRvae, "encode", "--model", "sd15", "--endpoint",
                               serve.url() + "sd15/encode/", dir / "img", "-o", dir / "lat/"});
  ASSERT_EQ(encoded.exit_code, 0) << encoded.err;
  EXPECT_EQ(list_dir(dir / "lat"), (std::vector<std::string>{"a.safetensors", "b.safetensors"}));
}

// Defect: d1/x.npy and d2/x.npy into one directory both "wrote coll/x.png", one result lost.
TEST(CliBatchTest, OutputNameCollisionsAreRefusedBeforeSending) {
  testing_support::ScriptedServer server;  // Counts requests; none may arrive.
  TempDir dir;
  make_dir(dir / "d1");
  make_dir(dir / "d2");
  write_small_latents(dir / "d1/x.npy");
  write_small_latents(dir / "d2/x.npy");
  write_small_latents(dir / "d2/y.npy");
  const Outcome decoded = run({kRvae, "decode", "--model", "sd15", "--endpoint", server.url(),
                               dir / "d1", dir / "d2", "-o", dir / "coll"});
  EXPECT_EQ(decoded.exit_code, 2) << decoded.err;
  EXPECT_THAT(decoded.err, HasSubstr(dir / "d1/x.npy"));
  EXPECT_THAT(decoded.err, HasSubstr(dir / "d2/x.npy"));
  EXPECT_THAT(decoded.out, Not(HasSubstr("wrote")));
  EXPECT_TRUE(server.requests().empty());
  EXPECT_TRUE(list_dir(dir / "coll").empty());

  ASSERT_TRUE(write_image(dir / "d1/p.png", gradient_image(16, 16)));
  ASSERT_TRUE(write_image(dir / "d2/p.jpg", gradient_image(16, 16)));
  const Outcome encoded = run({kRvae, "encode", "--endpoint", server.url(), dir / "d1/p.png",
                               dir / "d2/p.jpg", "-o", dir / "lat"});
  EXPECT_EQ(encoded.exit_code, 2);
  EXPECT_THAT(encoded.err, HasSubstr("p.png"));
  EXPECT_THAT(encoded.err, HasSubstr("p.jpg"));
  EXPECT_TRUE(server.requests().empty());
}

// Defect: Ctrl-C mid-batch exited 130 having written nothing.
TEST(CliBatchTest, InterruptKeepsFinishedOutputsAndLeavesNoPartialFile) {
  Serve serve({"--latency-ms", "150"});
  ASSERT_FALSE(serve.url().empty());
  TempDir dir;
  constexpr int kInputs = 30;
  latents_dir(dir, kInputs);
  Child decode({kRvae, "decode", "--model", "sd15", "--endpoint", serve.url() + "sd15/decode/",
                "-j", "2", dir / "in", "-o", dir / "out"});
  ASSERT_TRUE(decode.started());
  // Interrupt once a few outputs exist: each must have been written when its request finished.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (list_dir(dir / "out").size() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  decode.signal(SIGINT);
  const Outcome outcome = decode.wait(std::chrono::seconds(20));
  ASSERT_FALSE(outcome.timed_out);
  EXPECT_EQ(outcome.exit_code, 130) << outcome.err;
  const std::vector<std::string> written = list_dir(dir / "out");
  ASSERT_GE(written.size(), 3u);
  EXPECT_LT(written.size(), static_cast<std::size_t>(kInputs));
  for (const std::string& name : written) {
    // Temporaries are hidden files beside their target.
    EXPECT_NE(name.front(), '.') << "temporary file left: " << name;
    Result<Image> image = read_image(dir / ("out/" + name));
    ASSERT_TRUE(image) << name << " is not a complete PNG";
    EXPECT_EQ(image->width, 16);
  }
  EXPECT_THAT(outcome.err, HasSubstr("interrupted: " + std::to_string(written.size()) + " of " +
                                     std::to_string(kInputs) + " outputs written"));
  // Every output reported on stdout was written, and the other way round.
  std::size_t reported = 0;
  for (std::size_t at = outcome.out.find("wrote "); at != std::string::npos;
       at = outcome.out.find("wrote ", at + 1)) {
    ++reported;
  }
  EXPECT_EQ(reported, written.size());
}

TEST(CliBatchTest, JsonPrintsOneParsableObjectPerInputAndNothingElse) {
  Serve serve;
  ASSERT_FALSE(serve.url().empty());
  TempDir dir;
  latents_dir(dir, 3);
  // A 5-channel tensor: the server refuses it for sd15 with HTTP 400.
  const Tensor five = Tensor::zeros({1, 5, 2, 2}, DType::kFloat32).value();
  ASSERT_TRUE(write_npy(dir / "in/zz_bad.npy", five.view()));
  const Outcome decoded = run({kRvae, "decode", "--json", "-v", "--model", "sd15", "--endpoint",
                               serve.url() + "sd15/decode/", dir / "in", "-o", dir / "out"});
  EXPECT_EQ(decoded.exit_code, 1) << decoded.err;
  std::vector<nlohmann::json> objects;
  std::size_t start = 0;
  while (start < decoded.out.size()) {
    const std::size_t end = decoded.out.find('\n', start);
    ASSERT_NE(end, std::string::npos) << "unterminated line";
    objects.push_back(nlohmann::json::parse(decoded.out.substr(start, end - start)));
    start = end + 1;
  }
  ASSERT_EQ(objects.size(), 4u) << decoded.out;
  std::size_t failures = 0;
  for (const nlohmann::json& object : objects) {
    EXPECT_EQ(object.at("model"), "sd15");
    EXPECT_EQ(object.at("endpoint"), serve.url() + "sd15/decode/");
    if (object.at("ok").get<bool>()) {
      ASSERT_TRUE(object.at("timings_ms").is_object());
      EXPECT_GT(object.at("timings_ms").at("total").get<double>(), 0.0);
      EXPECT_EQ(object.at("attempts"), 1);
      const std::string output = object.at("output");
      EXPECT_TRUE(exists(output)) << output;
      EXPECT_EQ(object.at("shape"), nlohmann::json::array({1, 16, 16, 3}));
      EXPECT_GT(object.at("bytes").get<int>(), 0);
      EXPECT_TRUE(object.at("error").is_null());
    } else {
      ++failures;
      EXPECT_THAT(object.at("input").get<std::string>(), HasSubstr("zz_bad.npy"));
      EXPECT_TRUE(object.at("output").is_null());
      EXPECT_EQ(object.at("error").at("code"), "InvalidArgument");
      EXPECT_EQ(object.at("error").at("http_status"), 400);
      EXPECT_FALSE(object.at("error").at("message").get<std::string>().empty());
    }
  }
  EXPECT_EQ(failures, 1u);
  EXPECT_THAT(decoded.err, HasSubstr("zz_bad.npy"));  // Errors still on stderr too.
}

TEST(CliBatchTest, QuietPrintsOnlyErrors) {
  Serve serve;
  ASSERT_FALSE(serve.url().empty());
  TempDir dir;
  latents_dir(dir, 2);
  const Outcome decoded = run({kRvae, "decode", "-q", "--model", "sd15", "--endpoint",
                               serve.url() + "sd15/decode/", dir / "in", "-o", dir / "out"});
  ASSERT_EQ(decoded.exit_code, 0) << decoded.err;
  EXPECT_EQ(decoded.out, "");
  EXPECT_EQ(decoded.err, "");  // No progress lines either.
  EXPECT_EQ(list_dir(dir / "out").size(), 2u);
  const Outcome missing = run({kRvae, "decode", "--quiet", "--endpoint", serve.url(),
                               dir / "absent.npy", "-o", dir / "x.png"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("absent.npy"));
}

TEST(CliBatchTest, DashOutputWritesTheResultToStdout) {
  Serve serve;
  ASSERT_FALSE(serve.url().empty());
  TempDir dir;
  write_small_latents(dir / "z.npy");
  const Outcome piped = run({kRvae, "decode", "--model", "sd15", "--endpoint",
                             serve.url() + "sd15/decode/", dir / "z.npy", "-o", "-"});
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  Result<Image> image =
      decode_image(reinterpret_cast<const std::uint8_t*>(piped.out.data()), piped.out.size());
  ASSERT_TRUE(image) << "stdout is not one PNG";
  EXPECT_EQ(image->width, 16);
  EXPECT_EQ(piped.out.substr(1, 3), "PNG");

  const Outcome tensor =
      run({kRvae, "decode", "--model", "sd15", "--output-type", "tensor", "--endpoint",
           serve.url() + "sd15/decode/", dir / "z.npy", "-o", "-"});
  ASSERT_EQ(tensor.exit_code, 0) << tensor.err;
  Result<Tensor> pixels =
      parse_npy(reinterpret_cast<const std::uint8_t*>(tensor.out.data()), tensor.out.size());
  ASSERT_TRUE(pixels);
  EXPECT_EQ(pixels->shape(), (Shape{1, 3, 16, 16}));

  ASSERT_TRUE(write_image(dir / "p.png", gradient_image(16, 24)));
  const Outcome latents = run({kRvae, "encode", "--model", "sd15", "--endpoint",
                               serve.url() + "sd15/encode/", dir / "p.png", "-o", "-"});
  ASSERT_EQ(latents.exit_code, 0) << latents.err;
  Result<std::vector<NamedTensor>> parsed = parse_safetensors(
      reinterpret_cast<const std::uint8_t*>(latents.out.data()), latents.out.size());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->at(0).tensor.shape(), (Shape{1, 4, 3, 2}));

  latents_dir(dir, 2);
  const Outcome many = run({kRvae, "decode", "--endpoint", serve.url(), dir / "in", "-o", "-"});
  EXPECT_EQ(many.exit_code, 2);
  EXPECT_THAT(many.err, HasSubstr("-o - writes one result"));
}

TEST(CliBatchTest, DashInputReadsStdin) {
  Serve serve;
  ASSERT_FALSE(serve.url().empty());
  TempDir dir;
  write_small_latents(dir / "z.npy");
  const Outcome decoded = run({kRvae, "decode", "--model", "sd15", "--endpoint",
                               serve.url() + "sd15/decode/", "-", "-o", dir / "out.png"},
                              {}, dir / "z.npy");
  ASSERT_EQ(decoded.exit_code, 0) << decoded.err;
  EXPECT_EQ(read_image(dir / "out.png")->width, 16);

  const Tensor latents = Tensor::zeros({1, 4, 3, 2}, DType::kFloat32).value();
  ASSERT_TRUE(write_safetensors(dir / "z.safetensors", {{"latents", latents.view()}}));
  const Outcome from_safetensors = run({kRvae, "decode", "--model", "sd15", "--endpoint",
                                        serve.url() + "sd15/decode/", "-", "-o", dir / "out2.png"},
                                       {}, dir / "z.safetensors");
  ASSERT_EQ(from_safetensors.exit_code, 0) << from_safetensors.err;
  EXPECT_EQ(read_image(dir / "out2.png")->height, 24);

  ASSERT_TRUE(write_image(dir / "p.jpg", gradient_image(32, 16)));
  const Outcome encoded = run({kRvae, "encode", "--model", "sd15", "--endpoint",
                               serve.url() + "sd15/encode/", "-", "-o", dir / "p.npy"},
                              {}, dir / "p.jpg");
  ASSERT_EQ(encoded.exit_code, 0) << encoded.err;
  EXPECT_EQ(read_npy(dir / "p.npy")->shape(), (Shape{1, 4, 2, 4}));
}

}  // namespace
}  // namespace rvae::cli_test
