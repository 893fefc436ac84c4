// An HTTP reply read from fuzz input: a status selector, header lines, an empty line, the body.
#pragma once

#include <string>
#include <string_view>

#include "fuzz_input.hpp"
#include "http/message.hpp"

namespace rvae::fuzz {

inline http::HttpResponse take_response(FuzzInput& input) {
  http::HttpResponse response;
  const std::uint8_t status = input.byte();
  // Mostly 200 (the parsers' main path); otherwise any status 100..611.
  response.status = status < 160 ? 200 : 100 + static_cast<int>(input.u16() % 512);
  const std::string_view head = input.until("\n\n");
  std::size_t pos = 0;
  while (pos < head.size()) {
    std::size_t end = head.find('\n', pos);
    if (end == std::string_view::npos) end = head.size();
    const std::string_view line = head.substr(pos, end - pos);
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ')
        value.remove_prefix(1);
      response.headers.push_back({std::string(line.substr(0, colon)), std::string(value)});
    }
    pos = end + 1;
  }
  const std::string_view body = input.remaining();
  response.body.assign(body.begin(), body.end());
  return response;
}

}  // namespace rvae::fuzz
