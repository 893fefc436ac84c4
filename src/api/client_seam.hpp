// Builds a Client over a given transport, clock and jitter source: the seam through which the
// retry loop, deadlines, Retry-After, breaker and replica choice are tested without sockets
// and without waiting.
#pragma once

#include <memory>

#include "api/call.hpp"
#include "rvae/client.hpp"
#include "transport/transport.hpp"

namespace rvae::detail {

/// What a Client is built over; each empty member gets the production default.
struct ClientSeams {
  std::unique_ptr<transport::Transport> transport;  ///< Default: the libcurl transport.
  CallClock now;                                    ///< Default: steady_clock.
  RandomBits random_bits;                           ///< Default: a per-thread PRNG.
};

/// The only way to reach Client's private constructor.
struct ClientFactory {
  static Client make(ClientOptions options, ClientSeams seams);
};

}  // namespace rvae::detail
