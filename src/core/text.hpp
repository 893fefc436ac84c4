// Small text helpers shared by the layers that read header values, dates and token files.
#pragma once

#include <cstddef>
#include <string_view>

namespace rvae::detail {

/// `text` without leading and trailing spaces, tabs, CRs and LFs (HTTP's optional whitespace
/// plus the line ends a header line or a token file brings). A view into `text`.
inline std::string_view trim(std::string_view text) noexcept {
  constexpr std::string_view kSpace = " \t\r\n";
  const std::size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  const std::size_t last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
}

}  // namespace rvae::detail
