// Bytes moved by one request: what progress callbacks receive.
#pragma once

#include <cstdint>
#include <functional>

#include "rvae/export.h"

namespace rvae {

/// Bytes moved so far by one request's current attempt (totals are 0 while unknown).
struct TransferProgress {
  std::uint64_t uploaded = 0;
  std::uint64_t upload_total = 0;
  std::uint64_t downloaded = 0;
  std::uint64_t download_total = 0;
};

/// Called from the client's network thread as bytes move; must be quick and must not call back
/// into the Client synchronously.
using ProgressCallback = std::function<void(const TransferProgress&)>;

}  // namespace rvae
