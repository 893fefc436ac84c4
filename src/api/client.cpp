#include "rvae/client.hpp"

#include <chrono>
#include <string>
#include <utility>

#include "protocol/protocol.hpp"
#include "transport/curl_errors.hpp"
#include "transport/transport.hpp"

namespace rvae {

struct Client::Impl {
  explicit Impl(ClientOptions client_options)
      : options(std::move(client_options)), transport(transport::make_curl_transport(options)) {}

  // Sends a built request and logs one line per exchange; never logs headers (they carry the
  // token) or the query.
  Result<protocol::HttpResponse> exchange(const protocol::HttpRequest& request) {
    const auto start = std::chrono::steady_clock::now();
    Result<protocol::HttpResponse> response = transport->send(request);
    if (options.log) {
      const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
      std::string line = request.method + " " + transport::redact_url(request.url) + " (" +
                         std::to_string(request.body_size()) + " bytes) -> ";
      line += response ? "HTTP " + std::to_string(response->status) + ", " +
                             std::to_string(response->body.size()) + " bytes"
                       : std::string(response.error().what());
      line += " in " + std::to_string(elapsed.count()) + " ms";
      options.log(response ? LogLevel::kDebug : LogLevel::kWarning, line);
    }
    return response;
  }

  protocol::ReplyLimits reply_limits() const {
    protocol::ReplyLimits limits;
    limits.max_pixels = options.max_reply_pixels;
    return limits;
  }

  template <typename Input>
  Result<Tensor> encode(std::string_view endpoint, const Input& input,
                        const EncodeOptions& encode_options) {
    Result<protocol::EncodeRequest> request =
        protocol::build_encode_request(endpoint, input, encode_options);
    if (!request) return std::move(request).error();
    Result<protocol::HttpResponse> response = exchange(request->http);
    if (!response) return std::move(response).error();
    return protocol::parse_encode_reply(std::move(response).value(), request->expect);
  }

  ClientOptions options;
  std::unique_ptr<transport::Transport> transport;
};

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

const ClientOptions& Client::options() const noexcept {
  return impl_->options;
}

Result<DecodeOutput> Client::decode(std::string_view endpoint, const TensorView& latents,
                                    const DecodeOptions& options) {
  Result<protocol::DecodeRequest> request =
      protocol::build_decode_request(endpoint, latents, options);
  if (!request) return std::move(request).error();
  Result<protocol::HttpResponse> response = impl_->exchange(request->http);
  if (!response) return std::move(response).error();
  return protocol::parse_decode_reply(std::move(response).value(), request->expect,
                                      impl_->reply_limits());
}

Result<Tensor> Client::encode(std::string_view endpoint, const Image& image,
                              const EncodeOptions& options) {
  return impl_->encode(endpoint, image, options);
}

Result<Tensor> Client::encode(std::string_view endpoint, const TensorView& pixels,
                              const EncodeOptions& options) {
  return impl_->encode(endpoint, pixels, options);
}

Client& default_client() {
  static Client client;
  return client;
}

Result<DecodeOutput> remote_decode(std::string_view endpoint, const TensorView& latents,
                                   const DecodeOptions& options) {
  return default_client().decode(endpoint, latents, options);
}

Result<Tensor> remote_encode(std::string_view endpoint, const Image& image,
                             const EncodeOptions& options) {
  return default_client().encode(endpoint, image, options);
}

Result<Tensor> remote_encode(std::string_view endpoint, const TensorView& pixels,
                             const EncodeOptions& options) {
  return default_client().encode(endpoint, pixels, options);
}

const char* version() noexcept {
  return RVAE_VERSION_STRING;
}

}  // namespace rvae
