// Builds a Client over a given transport, clock and jitter source: the seam through which the
// retry loop, deadlines, Retry-After, breaker and replica choice are tested without sockets
// and without waiting.
#pragma once

#include "api/engine.hpp"
#include "rvae/client.hpp"

namespace rvae::detail {

/// What a Client is built over; each empty member gets the production default.
using ClientSeams = EngineSeams;

/// The only way to reach Client's private constructor.
struct ClientFactory {
  static Client make(ClientOptions options, ClientSeams seams);
};

}  // namespace rvae::detail
