#include "files/strict_json.hpp"

#include "core/json_depth.hpp"

#include <cstddef>
#include <exception>
#include <new>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/json_depth.hpp"
#include "rvae/error.hpp"

namespace rvae::internal {
namespace {

// nlohmann's messages can quote raw input bytes; keep error text printable ASCII.
std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) ? c : '?';
  }
  return out;
}

}  // namespace

Result<nlohmann::json> parse_json_strict(std::string_view text, std::string_view what,
                                         std::size_t max_depth, const JsonEventHook& hook) {
  const std::string name(what);
  if (detail::json_nesting_depth(text) > max_depth) {
    return Error(ErrorCode::kInvalidArgument,
                 name + " is nested deeper than " + std::to_string(max_depth) + " levels");
  }
  // One set of seen keys per open object; arrays push nothing (their values have no keys).
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  const nlohmann::json::parser_callback_t on_event =
      [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
        using Event = nlohmann::json::parse_event_t;
        if (event == Event::object_start) {
          open_objects.emplace_back();
        } else if (event == Event::object_end) {
          if (!open_objects.empty()) open_objects.pop_back();
        } else if (event == Event::key && !open_objects.empty() && duplicate.empty() &&
                   parsed.is_string()) {
          const auto& key = parsed.get_ref<const std::string&>();
          if (!open_objects.back().insert(key).second) duplicate = key;
        }
        return hook ? hook(depth, event, parsed) : true;
      };
  try {
    nlohmann::json value = nlohmann::json::parse(text.begin(), text.end(), on_event);
    if (!duplicate.empty()) {
      return Error(ErrorCode::kInvalidArgument,
                   name + " has the key '" + printable(duplicate) + "' twice");
    }
    return value;
  } catch (JsonStop& stop) {
    return std::move(stop.error);
  } catch (const nlohmann::json::exception& e) {
    std::string message = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix; keep position and cause.
    if (const auto end = message.find("] ");
        message.rfind("[json.exception", 0) == 0 && end != std::string::npos) {
      message.erase(0, end + 2);
    }
    return Error(ErrorCode::kInvalidArgument, name + " is not valid JSON: " + printable(message));
  } catch (const std::bad_alloc&) {
    return Error(ErrorCode::kResourceExhausted, "out of memory parsing the " + name);
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal, "parsing the " + name + " failed: " + printable(e.what()));
  }
}

}  // namespace rvae::internal
