#include "args.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace rvae::cli {
namespace {

// The conventional short flags; every other option is spelled out.
std::string long_name(const std::string& token) {
  if (token == "-o") return "output";
  if (token == "-h") return "help";
  if (token == "-j") return "jobs";
  if (token == "-v") return "verbose";
  if (token == "-q") return "quiet";
  if (token.rfind("--", 0) == 0) return token.substr(2);
  throw UsageError{"unknown option " + token};
}

}  // namespace

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& value_options,
           const std::set<std::string>& flags) {
  bool options_ended = false;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& token = argv[i];
    if (options_ended || token.empty() || token[0] != '-' || token == "-") {
      positionals_.push_back(token);
      continue;
    }
    if (token == "--") {
      options_ended = true;
      continue;
    }
    std::string name = long_name(token);
    std::optional<std::string> inline_value;
    if (const std::size_t equals = name.find('='); equals != std::string::npos) {
      inline_value = name.substr(equals + 1);
      name = name.substr(0, equals);
    }
    if (flags.count(name) > 0) {
      if (inline_value) throw UsageError{"--" + name + " takes no value"};
      values_[name] = "";
    } else if (value_options.count(name) > 0) {
      if (inline_value) {
        values_[name] = *inline_value;
      } else if (i + 1 < argv.size()) {
        values_[name] = argv[++i];
      } else {
        throw UsageError{"--" + name + " needs a value"};
      }
    } else {
      throw UsageError{"unknown option --" + name};
    }
  }
}

std::optional<std::string> Args::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::optional<double> Args::get_double(const std::string& name) const {
  std::optional<std::string> text = get(name);
  if (!text) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text->c_str(), &end);
  if (text->empty() || *end != '\0' || errno == ERANGE || !std::isfinite(value)) {
    throw UsageError{"--" + name + " needs a number, got '" + *text + "'"};
  }
  return value;
}

std::optional<int> Args::get_int(const std::string& name, int min, int max) const {
  std::optional<std::string> text = get(name);
  if (!text) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text->c_str(), &end, 10);
  if (text->empty() || *end != '\0' || errno == ERANGE || value < min || value > max) {
    throw UsageError{"--" + name + " needs an integer from " + std::to_string(min) + " to " +
                     std::to_string(max) + ", got '" + *text + "'"};
  }
  return static_cast<int>(value);
}

}  // namespace rvae::cli
