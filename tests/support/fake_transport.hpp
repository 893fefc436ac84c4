// A Transport and a clock for tests of everything above the network: each submitted attempt
// is recorded and answered at once by a script, and time moves only when an attempt waits
// (to its not_before), so retry schedules run instantly and exactly.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "transport/transport.hpp"

namespace rvae::testing_support {

/// A steady clock that moves only when told. Thread-safe.
class FakeClock {
 public:
  using time_point = transport::Clock::time_point;

  time_point now() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return now_;
  }
  void advance(transport::Clock::duration by) {
    std::lock_guard<std::mutex> lock(mutex_);
    now_ += by;
  }
  void advance_to(time_point when) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (when > now_) now_ = when;
  }
  /// A function to hand to the code under test.
  std::function<time_point()> function() {
    return [this] { return now(); };
  }

 private:
  mutable std::mutex mutex_;
  time_point now_ = time_point() + std::chrono::hours(1);
};

/// One attempt as the transport received it.
struct FakeAttempt {
  std::string url;
  std::vector<http::Header> headers;
  std::size_t body_size = 0;
  transport::Clock::time_point submitted;   ///< Fake time at submit().
  transport::Clock::time_point not_before;  ///< When it was allowed to start.
  transport::Clock::time_point started;     ///< Fake time it started (after any wait).
  transport::TransferOptions options;
};

/// Answers each attempt with `respond(attempt)`. A wait past the attempt's deadline ends it
/// with DeadlineExceeded, as the real transport does for a queued transfer.
class FakeTransport final : public transport::Transport {
 public:
  using Responder = std::function<transport::TransferResult(const FakeAttempt&)>;

  FakeTransport(FakeClock& clock, Responder respond)
      : clock_(clock), respond_(std::move(respond)) {}

  void submit(std::string url, std::shared_ptr<const http::HttpRequest> request,
              transport::TransferOptions options, transport::Clock::time_point not_before,
              transport::TransferDone done) override {
    FakeAttempt attempt;
    attempt.url = std::move(url);
    attempt.headers = request->headers;
    attempt.body_size = request->body.size();
    attempt.submitted = clock_.now();
    attempt.not_before = not_before;
    attempt.options = options;
    transport::TransferResult result{Error(ErrorCode::kInternal, "unset"), {}};
    if (not_before >= options.deadline) {
      clock_.advance_to(options.deadline);
      attempt.started = clock_.now();
      result.response =
          Error(ErrorCode::kDeadlineExceeded, "deadline passed before the request could be sent");
    } else {
      clock_.advance_to(not_before);
      attempt.started = clock_.now();
      result = respond_(attempt);
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      attempts_.push_back(attempt);
    }
    done(std::move(result));
  }

  std::vector<FakeAttempt> attempts() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return attempts_;
  }

 private:
  FakeClock& clock_;
  Responder respond_;
  mutable std::mutex mutex_;
  std::vector<FakeAttempt> attempts_;
};

/// A reply with `status`, optional headers and a text body.
inline transport::TransferResult http_reply(int status, std::vector<http::Header> headers = {},
                                            const std::string& body = {}) {
  http::HttpResponse response;
  response.status = status;
  response.headers = std::move(headers);
  response.body.assign(body.begin(), body.end());
  return {std::move(response), {}};
}

/// A transport-level failure (no reply).
inline transport::TransferResult network_failure(ErrorCode code, const std::string& message,
                                                 bool retryable) {
  return {Error(code, message).with_retryable(retryable), {}};
}

}  // namespace rvae::testing_support
