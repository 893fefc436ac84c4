// A bound on JSON nesting checked before parsing: nlohmann's parser recurses per level, so a
// hostile body of a million '[' would exhaust the stack.
#pragma once

#include <cstddef>
#include <string_view>

namespace rvae::detail {

/// The deepest nesting of objects and arrays in `text`, brackets inside strings ignored. Not a
/// validator: malformed text gives some number, and the parser rejects it afterwards.
std::size_t json_nesting_depth(std::string_view text) noexcept;

}  // namespace rvae::detail
