// TLS verification and HTTP/2 against a real TLS server: nghttpd (Debian's nghttp2-server) with a
// throwaway self-signed certificate for 127.0.0.1. nghttpd answers any POST with a static file,
// which is all a kImage decode needs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#ifndef _WIN32
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "rvae/rvae.hpp"
#include "support/scripted_server.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"

namespace rvae {
namespace {

using ::testing::HasSubstr;
using testing_support::ChildProcess;
using testing_support::run_process;

#ifndef _WIN32
std::string find_program(const std::vector<std::string>& candidates) {
  for (const std::string& path : candidates) {
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return {};
}

bool accepts_connections(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool connected =
      ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return connected;
}

Image gradient(int width, int height) {
  Image image{width, height, 3, Bytes(static_cast<std::size_t>(width * height * 3))};
  for (std::size_t i = 0; i < image.pixels.size(); ++i) {
    image.pixels[i] = static_cast<std::uint8_t>(i * 5);
  }
  return image;
}
#endif

// nghttpd serving reply.png over TLS 1.3 + HTTP/2 on 127.0.0.1, certificate in cert.pem.
class TlsServer : public ::testing::Test {
 protected:
  void SetUp() override {
#ifdef _WIN32
    GTEST_SKIP() << "nghttpd (Debian's nghttp2-server) and openssl, which these tests run as the "
                    "TLS server, are Linux programs";
#else
    const std::string nghttpd = find_program({"/usr/sbin/nghttpd", "/usr/bin/nghttpd"});
    const std::string openssl = find_program({"/usr/bin/openssl"});
    if (nghttpd.empty() || openssl.empty()) {
      GTEST_SKIP() << "needs nghttpd and openssl (scripts/install-deps.sh installs them)";
    }
    temp_ = std::make_unique<testing_support::TempDir>("rvae-tls-test");
    dir_ = temp_->str();
    ASSERT_TRUE(std::filesystem::create_directory(temp_->fs_path() / "docs"));
    const testing_support::ProcessResult made =
        run_process({openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                     dir_ + "/key.pem", "-out", dir_ + "/cert.pem", "-days", "2", "-subj",
                     "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    image_ = gradient(16, 8);
    const Bytes png = encode_png(image_).value();
    ASSERT_TRUE(write_file(dir_ + "/docs/reply.png", png.data(), png.size()));

    port_ = testing_support::unused_port();
    server_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{nghttpd, "--htdocs=" + dir_ + "/docs", std::to_string(port_),
                                 dir_ + "/key.pem", dir_ + "/cert.pem"});
    ASSERT_TRUE(server_->started());
    // An external process gives no readiness signal: wait (bounded) until it accepts.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!accepts_connections(port_)) {
      ASSERT_LT(std::chrono::steady_clock::now(), give_up) << "nghttpd did not start";
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
#endif
  }

  void TearDown() override {
    server_.reset();
    temp_.reset();
  }

  std::string url(const std::string& host = "127.0.0.1") const {
    return "https://" + host + ":" + std::to_string(port_) + "/reply.png";
  }

  std::unique_ptr<testing_support::TempDir> temp_;
  std::string dir_;
  int port_ = -1;
  Image image_;
  std::unique_ptr<ChildProcess> server_;
};

TEST_F(TlsServer, DecodesOverHttp2WithTheCertificateTrusted) {
  ClientOptions options;
  options.ca_file = dir_ + "/cert.pem";
  options.token_from_environment = false;
  Client client(options);
  const Tensor latents = Tensor::zeros({1, 4, 1, 2}, DType::kFloat16).value();  // 16x8 pixels
  DecodeOptions decode_options;
  decode_options.image_format = ImageFormat::kPng;

  // Several at once: HTTP/2 carries them as streams of one connection.
  std::vector<Pending<DecodeOutput>> pending;
  for (int i = 0; i < 6; ++i) {
    pending.push_back(client.decode_async(url(), latents.view(), decode_options));
  }
  for (Pending<DecodeOutput>& call : pending) {
    Result<DecodeOutput> output = call.get();
    ASSERT_TRUE(output) << output.error().what();
    EXPECT_EQ(output->timings.protocol, "HTTP/2");
    ASSERT_EQ(output->images.size(), 1u);
    EXPECT_EQ(output->images[0].pixels, image_.pixels);
  }
}

TEST_F(TlsServer, UntrustedCertificateIsRefused) {
  ClientOptions options;  // System CAs only: the self-signed certificate is not among them.
  options.token_from_environment = false;
  const Tensor latents = Tensor::zeros({1, 4, 1, 2}, DType::kFloat16).value();
  Result<DecodeOutput> output = Client(options).decode(url(), latents.view());
  ASSERT_FALSE(output);
  EXPECT_EQ(output.error().code(), ErrorCode::kUnavailable);
  EXPECT_FALSE(output.error().retryable());
  EXPECT_THAT(output.error().message(), HasSubstr("TLS"));
}

TEST_F(TlsServer, CertificateForAnotherNameIsRefused) {
  ClientOptions options;
  options.ca_file = dir_ + "/cert.pem";  // Trusted, but issued for 127.0.0.1 only.
  options.token_from_environment = false;
  const Tensor latents = Tensor::zeros({1, 4, 1, 2}, DType::kFloat16).value();
  Result<DecodeOutput> output = Client(options).decode(url("localhost"), latents.view());
  ASSERT_FALSE(output);
  EXPECT_EQ(output.error().code(), ErrorCode::kUnavailable);
  EXPECT_FALSE(output.error().retryable());
}

}  // namespace
}  // namespace rvae
