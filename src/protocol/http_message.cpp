#include "protocol/http_message.hpp"

namespace rvae::protocol {
namespace {

char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

const std::string* find_header(const std::vector<Header>& headers, std::string_view name) noexcept {
  for (const Header& h : headers) {
    if (iequals(h.name, name)) return &h.value;
  }
  return nullptr;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

const std::string* HttpRequest::header(std::string_view name) const noexcept {
  return find_header(headers, name);
}

const std::string* HttpResponse::header(std::string_view name) const noexcept {
  return find_header(headers, name);
}

}  // namespace rvae::protocol
