#include "http/retryable.hpp"

#include <algorithm>
#include <iterator>

namespace rvae::http {
namespace {

// Gateways, rate limits and timeouts: the same request may succeed later without change.
constexpr int kRetryableStatuses[] = {408, 429, 502, 503, 504};

constexpr NetworkFailure kRetryableFailures[] = {
    NetworkFailure::kResolveFailed,   NetworkFailure::kConnectFailed,
    NetworkFailure::kTimedOut,        NetworkFailure::kClosedWithoutReply,
    NetworkFailure::kConnectionBroke, NetworkFailure::kCutShort,
};

}  // namespace

bool is_retryable(NetworkFailure failure) noexcept {
  return std::find(std::begin(kRetryableFailures), std::end(kRetryableFailures), failure) !=
         std::end(kRetryableFailures);
}

bool is_retryable_status(int status) noexcept {
  return std::find(std::begin(kRetryableStatuses), std::end(kRetryableStatuses), status) !=
         std::end(kRetryableStatuses);
}

}  // namespace rvae::http
