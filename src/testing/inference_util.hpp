// Small helpers shared by the decode and encode handlers.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "rvae/error.hpp"

namespace rvae::reference {

/// Every handler failure becomes HTTP 400 with this message.
inline Error bad_request(std::string message) {
  return Error(ErrorCode::kInvalidArgument, std::move(message));
}

}  // namespace rvae::reference
