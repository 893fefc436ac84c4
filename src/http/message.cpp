#include "http/message.hpp"

#include <charconv>
#include <utility>

namespace rvae::http {
namespace {

char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

const std::string* find_header(const std::vector<Header>& headers, std::string_view name) noexcept {
  for (const Header& h : headers) {
    if (iequals(h.name, name)) return &h.value;
  }
  return nullptr;
}

void Body::append_owned(Bytes bytes) {
  if (bytes.empty()) return;
  pieces_.push_back({bytes.data(), bytes.size()});
  size_ += bytes.size();
  owned_.push_back(std::move(bytes));
}

void Body::append_borrowed(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return;
  pieces_.push_back({data, size});
  size_ += size;
}

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

std::optional<std::size_t> find_decimal_header(const std::vector<Header>& headers,
                                               std::string_view name) noexcept {
  const std::string* text = find_header(headers, name);
  if (text == nullptr || text->empty()) return std::nullopt;
  std::size_t value = 0;
  const char* end = text->data() + text->size();
  const auto [stop, error] = std::from_chars(text->data(), end, value);
  if (error != std::errc() || stop != end) return std::nullopt;
  return value;
}

}  // namespace rvae::http
