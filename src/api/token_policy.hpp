// Which token may go where: a token found in Hugging Face's environment is that user's Hugging
// Face credential and goes only to Hugging Face hosts over https; a token given for rvae goes to
// any endpoint, but never in clear to another machine unless the caller allows it.
#pragma once

#include <string>
#include <string_view>

#include "rvae/error.hpp"

namespace rvae::detail {

enum class TokenScope {
  kAnyEndpoint,       ///< Given explicitly: the option, --token-file, RVAE_TOKEN.
  kHuggingFaceHosts,  ///< Found in Hugging Face's environment (HF_TOKEN, its token file).
};

struct ScopedToken {
  std::string token;  ///< Empty: none.
  TokenScope scope = TokenScope::kAnyEndpoint;
};

/// huggingface.co, hf.co and their subdomains, *.huggingface.cloud (Inference Endpoints),
/// *.hf.space. `host` in lower case, as transport::scheme_and_host gives it.
bool is_huggingface_host(std::string_view host);
/// localhost, 127.0.0.0/8, [::1].
bool is_loopback_host(std::string_view host);

/// Whether `token` goes with a request to `url`. InvalidArgument (before anything is sent) for a
/// token given for any endpoint and a plain-http URL whose host is not loopback, unless
/// `allow_http`; a Hugging Face token is simply not sent where it does not belong.
Result<bool> token_goes_to(const ScopedToken& token, std::string_view url, bool allow_http);

}  // namespace rvae::detail
