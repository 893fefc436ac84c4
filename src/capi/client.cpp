// rvae_client: construction from rvae_client_params.
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "capi/capi.hpp"

namespace {

// The size of rvae_client_params in the first rvae.h, which ended with log_user_data; an
// older program's struct leaves the fields after it at their defaults (see read_params).
constexpr std::size_t kClientParamsV1 = RVAE_CAPI_SIZE_THROUGH(rvae_client_params, log_user_data);
static_assert(sizeof(void*) != 8 || kClientParamsV1 == 104, "the first version's layout moved");
static_assert(rvae::capi::starts_after_padding(kClientParamsV1, alignof(rvae_client_params),
                                               offsetof(rvae_client_params, decode_threads)));

rvae_log_level log_level_of(rvae::LogLevel level) {
  switch (level) {
    case rvae::LogLevel::kDebug:
      return RVAE_LOG_DEBUG;
    case rvae::LogLevel::kInfo:
      return RVAE_LOG_INFO;
    case rvae::LogLevel::kWarning:
      return RVAE_LOG_WARNING;
  }
  return RVAE_LOG_WARNING;
}

rvae::Result<rvae::ClientOptions> client_options_of(const rvae_client_params& p) {
  const char* fn = "rvae_client_new";
  if (p.connect_timeout_ms <= 0 || p.attempt_timeout_ms <= 0 || p.deadline_ms <= 0) {
    return rvae::Error(rvae::ErrorCode::kInvalidArgument,
                       std::string(fn) + ": timeouts must be positive (milliseconds)");
  }
  if (p.max_attempts < 1) {
    return rvae::Error(rvae::ErrorCode::kInvalidArgument,
                       std::string(fn) + ": max_attempts must be at least 1");
  }
  if (p.max_in_flight < 1) {
    return rvae::Error(rvae::ErrorCode::kInvalidArgument,
                       std::string(fn) + ": max_in_flight must be at least 1");
  }
  if (p.decode_threads < 1) {
    return rvae::Error(rvae::ErrorCode::kInvalidArgument,
                       std::string(fn) + ": decode_threads must be at least 1");
  }
  rvae::ClientOptions options;
  options.decode_threads = p.decode_threads;
  options.connect_timeout = std::chrono::milliseconds(p.connect_timeout_ms);
  options.attempt_timeout = std::chrono::milliseconds(p.attempt_timeout_ms);
  options.deadline = std::chrono::milliseconds(p.deadline_ms);
  options.retry.max_attempts = p.max_attempts;
  if (p.scale_up_timeout_s > 0)
    options.scale_up_timeout = std::chrono::seconds(p.scale_up_timeout_s);
  options.max_in_flight = p.max_in_flight;
  if (p.token != nullptr) options.token = p.token;
  options.token_from_environment = p.token_from_environment != 0;
  options.allow_token_over_http = p.allow_token_over_http != 0;
  if (p.user_agent != nullptr) options.user_agent = p.user_agent;
  if (p.ca_file != nullptr) options.ca_file = p.ca_file;
  if (p.log != nullptr) {
    options.log = [log = p.log, user_data = p.log_user_data](rvae::LogLevel level,
                                                             std::string_view message) {
      try {
        const std::string text(message);  // the C callback wants a terminated string
        log(log_level_of(level), text.c_str(), user_data);
      } catch (...) {
        // Out of memory copying a log line: drop the line, never the call.
      }
    };
  }
  return options;
}

}  // namespace

extern "C" {

void rvae_client_params_init_sized(rvae_client_params* out, std::size_t size) {
  const rvae::ClientOptions defaults;
  rvae_client_params filled{};
  rvae_client_params* p = &filled;
  p->connect_timeout_ms = defaults.connect_timeout.count();
  p->attempt_timeout_ms = defaults.attempt_timeout.count();
  p->deadline_ms = defaults.deadline.count();
  p->max_attempts = defaults.retry.max_attempts;
  p->max_in_flight = defaults.max_in_flight;
  p->token_from_environment = defaults.token_from_environment ? 1 : 0;
  p->decode_threads = defaults.decode_threads;
  rvae::capi::store_params(filled, out, size, kClientParamsV1);
}

// For programs built before the sized init: their struct may be the first version's.
void(rvae_client_params_init)(rvae_client_params* p) {
  rvae_client_params_init_sized(p, kClientParamsV1);
}

rvae_client* rvae_client_new(const rvae_client_params* p, rvae_error** err) {
  rvae_client* created = nullptr;
  rvae::capi::guarded(err, "rvae_client_new", [&] {
    rvae_client_params params;
    rvae_client_params_init(&params);
    if (rvae::Result<void> read = rvae::capi::read_params(
            p, kClientParamsV1, params, "rvae_client_new", "rvae_client_params_init");
        !read) {
      return rvae::capi::fail(err, read.error());
    }
    rvae::Result<rvae::ClientOptions> options = client_options_of(params);
    if (!options) return rvae::capi::fail(err, options.error());
    created = new rvae_client{rvae::Client(std::move(*options))};
    return rvae::capi::succeed(err);
  });
  return created;
}

void rvae_client_free(rvae_client* c) {
  try {
    delete c;
  } catch (...) {
    // ~Client does not throw; this only keeps the promise that nothing crosses the C boundary.
  }
}

}  // extern "C"
