// Turning untrusted reply bodies into short, printable text for error messages.
#include <cstdio>
#include <exception>
#include <string>

#include <nlohmann/json.hpp>

#include "core/json_depth.hpp"
#include "protocol/protocol_internal.hpp"

namespace rvae::protocol::internal {
namespace {

// Bodies larger than this are not parsed as JSON; only their beginning is looked at.
constexpr std::size_t kMaxJsonBytes = 1 << 20;
constexpr std::size_t kMaxScanBytes = 64 * 1024;
// nlohmann's dump() recurses once per level; deeper documents are treated as text.
constexpr std::size_t kMaxJsonDepth = 64;

bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Length of the valid UTF-8 sequence at text[i] (1 for printable ASCII), or 0 when the bytes
// there are not a printable character (control byte, C1 control, invalid or cut-off sequence).
std::size_t printable_char_length(std::string_view text, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(text[i]);
  if (b0 < 0x80) return (b0 >= 0x20 && b0 != 0x7F) ? 1 : 0;
  std::size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;  // No UTF-16 surrogates.
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return 0;
  }
  // U+0080..U+009F are C1 control characters.
  if (b0 == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0) return 0;
  return len;
}

std::string_view as_text(const Bytes& body, std::size_t max_bytes) {
  const std::size_t n = body.size() < max_bytes ? body.size() : max_bytes;
  return std::string_view(reinterpret_cast<const char*>(body.data()), n);
}

char first_non_space(std::string_view text) {
  for (char c : text) {
    if (!is_space(static_cast<unsigned char>(c))) return c;
  }
  return '\0';
}

bool contains_nocase(std::string_view haystack, std::string_view needle) {
  if (needle.size() > haystack.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (http::iequals(haystack.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

std::size_t find_nocase(std::string_view haystack, std::string_view needle, std::size_t from) {
  for (std::size_t i = from; i + needle.size() <= haystack.size(); ++i) {
    if (http::iequals(haystack.substr(i, needle.size()), needle)) return i;
  }
  return std::string_view::npos;
}

// The JSON document in `body`, or nullopt when it is not (small, shallow, valid) JSON.
std::optional<nlohmann::json> parse_json(const Bytes& body) {
  if (body.size() > kMaxJsonBytes) return std::nullopt;
  const std::string_view text = as_text(body, body.size());
  if (detail::json_nesting_depth(text) > kMaxJsonDepth) return std::nullopt;
  try {
    nlohmann::json doc = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    if (doc.is_discarded()) return std::nullopt;
    return doc;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string json_message(const nlohmann::json& doc) {
  try {
    if (doc.is_object()) {
      const auto it = doc.find("error");
      if (it != doc.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
        return clean_text(it->get_ref<const std::string&>());
      }
    }
    return clean_text(doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  } catch (const std::exception&) {
    return "(unprintable JSON)";
  }
}

void append_entity_decoded(std::string& out, std::string_view text) {
  static constexpr struct {
    std::string_view entity;
    char value;
  } kEntities[] = {{"&amp;", '&'},  {"&lt;", '<'},    {"&gt;", '>'},  {"&quot;", '"'},
                   {"&#39;", '\''}, {"&apos;", '\''}, {"&nbsp;", ' '}};
  for (std::size_t i = 0; i < text.size();) {
    bool replaced = false;
    if (text[i] == '&') {
      for (const auto& e : kEntities) {
        if (text.substr(i, e.entity.size()) == e.entity) {
          out += e.value;
          i += e.entity.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += text[i++];
  }
}

// An HTML page's <title>, or its text without tags (and without script/style contents).
std::string html_message(std::string_view html) {
  const std::size_t title = find_nocase(html, "<title", 0);
  if (title != std::string_view::npos) {
    const std::size_t open_end = html.find('>', title);
    if (open_end != std::string_view::npos) {
      const std::size_t close = find_nocase(html, "</title", open_end);
      std::string decoded;
      append_entity_decoded(decoded, html.substr(open_end + 1, close == std::string_view::npos
                                                                   ? std::string_view::npos
                                                                   : close - open_end - 1));
      std::string cleaned = clean_text(decoded);
      if (!cleaned.empty()) return cleaned;
    }
  }
  std::string text;
  for (std::size_t i = 0; i < html.size();) {
    if (html[i] != '<') {
      const std::size_t next = html.find('<', i);
      append_entity_decoded(text, html.substr(i, next == std::string_view::npos ? next : next - i));
      if (next == std::string_view::npos) break;
      i = next;
      continue;
    }
    std::size_t end = html.find('>', i);
    if (end == std::string_view::npos) break;
    for (std::string_view skipped : {std::string_view("script"), std::string_view("style")}) {
      if (http::iequals(html.substr(i + 1, skipped.size()), skipped)) {
        const std::size_t close = find_nocase(html, std::string("</") + std::string(skipped), end);
        end = close == std::string_view::npos ? html.size() - 1 : html.find('>', close);
        if (end == std::string_view::npos) end = html.size() - 1;
        break;
      }
    }
    text += ' ';  // Tags separate words.
    i = end + 1;
    if (text.size() > 4 * kMaxServerText) break;
  }
  return clean_text(text);
}

bool looks_like_html(std::string_view text, const std::string* content_type) {
  return first_non_space(text) == '<' ||
         (content_type != nullptr && contains_nocase(*content_type, "text/html"));
}

bool looks_like_json(std::string_view text, const std::string* content_type) {
  const char c = first_non_space(text);
  return c == '{' || c == '[' || c == '"' ||
         (content_type != nullptr && contains_nocase(*content_type, "json"));
}

bool is_printable_text(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t len = printable_char_length(text, i);
    if (len == 0) {
      if (!is_space(static_cast<unsigned char>(text[i]))) {
        // A multi-byte character cut off by the scan window is not evidence of binary data.
        return i + 4 > text.size() && static_cast<unsigned char>(text[i]) >= 0xC2;
      }
      ++i;
    } else {
      i += len;
    }
  }
  return true;
}

}  // namespace

std::string clean_text(std::string_view text, std::size_t max_chars) {
  std::string out;
  bool pending_space = false;
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (is_space(byte)) {
      pending_space = !out.empty();
      ++i;
      continue;
    }
    std::size_t len = printable_char_length(text, i);
    const bool printable = len != 0;
    if (!printable) len = 1;
    const std::size_t needed = len + (pending_space ? 1 : 0);
    if (out.size() + needed > max_chars) {
      out += "...";
      return out;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    if (printable) {
      out.append(text, i, len);
    } else {
      out += '?';
    }
    i += len;
  }
  return out;
}

std::string summarize_body(const Bytes& body, const std::string* content_type) {
  if (body.empty()) return {};
  const std::string_view head = as_text(body, kMaxScanBytes);
  if (looks_like_json(head, content_type)) {
    if (auto doc = parse_json(body)) return json_message(*doc);
  }
  if (looks_like_html(head, content_type)) return html_message(head);
  return clean_text(head);
}

std::string describe_body(const Bytes& body) {
  if (body.empty()) return "an empty body";
  const std::string size = std::to_string(body.size()) + "-byte";
  const std::string_view head = as_text(body, kMaxScanBytes);
  if (looks_like_json(head, nullptr)) {
    if (auto doc = parse_json(body)) return "a " + size + " JSON body: " + json_message(*doc);
  }
  if (looks_like_html(head, nullptr)) return "a " + size + " HTML page: " + html_message(head);
  const std::string_view start = as_text(body, 256);
  if (is_printable_text(start)) return "a " + size + " text body: '" + clean_text(start, 80) + "'";
  std::string hex = "a " + size + " body starting with bytes";
  for (std::size_t i = 0; i < body.size() && i < 8; ++i) {
    char buf[4];
    std::snprintf(buf, sizeof buf, " %02X", static_cast<unsigned>(body[i]));
    hex += buf;
  }
  return hex;
}

}  // namespace rvae::protocol::internal
