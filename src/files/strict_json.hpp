// Internal: JSON parsing for untrusted text (file headers, user preset files) that reports every
// problem as an Error value, rejects duplicate object keys (nlohmann silently keeps the last one,
// which would hide a conflicting second definition) and bounds the nesting depth.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "rvae/error.hpp"

namespace rvae::internal {

/// Thrown by a JsonEventHook to end the parse with `error`.
struct JsonStop {
  Error error;
};

/// Sees every parse event after the strict checks, as nlohmann's parser callback does: return
/// false to leave the value out of the result. Lets a caller enforce limits while parsing
/// (throwing JsonStop) and consume parts of a document without holding them all in memory.
using JsonEventHook =
    std::function<bool(int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed)>;

/// Parses `text` as one JSON value. InvalidArgument, naming `what` (e.g. "safetensors header")
/// and the position, for malformed JSON, invalid UTF-8, a duplicate key or nesting deeper than
/// `max_depth`; ResourceExhausted when memory runs out. Never throws.
Result<nlohmann::json> parse_json_strict(std::string_view text, std::string_view what,
                                         std::size_t max_depth,
                                         const JsonEventHook& hook = nullptr);

}  // namespace rvae::internal
