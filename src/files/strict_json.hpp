// Internal: JSON parsing for untrusted text (file headers, user preset files) that reports every
// problem as an Error value, rejects duplicate object keys (nlohmann silently keeps the last one,
// which would hide a conflicting second definition) and bounds the nesting depth.
#pragma once

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

#include "rvae/error.hpp"

namespace rvae::internal {

/// Parses `text` as one JSON value. InvalidArgument, naming `what` (e.g. "safetensors header")
/// and the position, for malformed JSON, invalid UTF-8, a duplicate key or nesting deeper than
/// `max_depth`; ResourceExhausted when memory runs out. Never throws.
Result<nlohmann::json> parse_json_strict(std::string_view text, std::string_view what,
                                         std::size_t max_depth);

}  // namespace rvae::internal
