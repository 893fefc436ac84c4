// Token lookup. The file is read so that a FIFO or device planted at the token path cannot block
// or flood us: read_whole_file opens it without blocking and reads it only if it is a regular
// file of bounded size.
#include "api/token_source.hpp"

#include <cstddef>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/file_io.hpp"
#include "core/text.hpp"

namespace rvae::detail {
namespace {

// The variable's value, treating "set but empty" as unset (as a shell user expects).
std::optional<std::string> non_empty(const EnvLookup& env, const char* name) {
  if (!env) return std::nullopt;
  std::optional<std::string> value = env(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

// A usable token made from `raw`, or nullopt.
std::optional<std::string> clean(std::string_view raw) {
  const std::string_view token = trim(raw);
  if (!is_valid_token(token)) return std::nullopt;
  return std::string(token);
}

// The home directory as Python's os.path.expanduser sees it (Python 3.8 and later on Windows,
// which no longer reads HOME there).
std::optional<std::string> home_directory(const EnvLookup& env, PathRules rules) {
  if (rules == PathRules::kPosix) return non_empty(env, "HOME");
  if (auto profile = non_empty(env, "USERPROFILE")) return profile;
  const auto drive = non_empty(env, "HOMEDRIVE");
  const auto path = non_empty(env, "HOMEPATH");
  if (drive && path) return *drive + *path;
  return std::nullopt;
}

bool is_separator(char c, PathRules rules) {
  return c == '/' || (rules == PathRules::kWindows && c == '\\');
}

// "~/x" -> "<home>/x", as expanduser does; unchanged when the home is unknown.
std::string expand_home(std::string path, const EnvLookup& env, PathRules rules) {
  if (path.empty() || path[0] != '~') return path;
  if (path.size() > 1 && !is_separator(path[1], rules)) return path;  // "~user": not supported
  if (const auto home = home_directory(env, rules)) path.replace(0, 1, *home);
  return path;
}

// os.path.join(base, name): one separator between them.
std::string join(std::string base, std::string_view name, PathRules rules) {
  if (!base.empty() && !is_separator(base.back(), rules)) {
    base += rules == PathRules::kWindows ? '\\' : '/';
  }
  return base.append(name);
}

// The whole file, or nullopt when it is missing, unreadable, not a regular file (a FIFO is not
// waited on) or larger than kMaxTokenFileBytes. Why is not reported: it could echo a secret.
std::optional<std::string> read_small_file(const std::string& path) {
  ReadFileOptions options;
  options.max_bytes = kMaxTokenFileBytes;
  options.regular_file_only = true;
  Result<Bytes> bytes = read_whole_file(path, options);
  if (!bytes) return std::nullopt;
  return std::string(bytes->begin(), bytes->end());
}

}  // namespace

EnvLookup process_env() {
  return [](const char* name) -> std::optional<std::string> {
#ifdef _WIN32
    // getenv gives the ANSI code page, which cannot spell every home folder's name; the paths
    // made from these values are UTF-8. (The variables' names are ASCII.)
    const std::wstring wide_name(name, name + std::char_traits<char>::length(name));
    const wchar_t* value = ::_wgetenv(wide_name.c_str());
    if (value == nullptr) return std::nullopt;
    return utf8_from_wide(value, std::char_traits<wchar_t>::length(value));
#else
    const char* value = std::getenv(name);
    if (value == nullptr) return std::nullopt;
    return std::string(value);
#endif
  };
}

std::optional<std::string> token_file_path(const EnvLookup& env, PathRules rules) {
  if (auto path = non_empty(env, "HF_TOKEN_PATH")) return expand_home(std::move(*path), env, rules);
  if (auto hf_home = non_empty(env, "HF_HOME")) {
    return join(expand_home(std::move(*hf_home), env, rules), "token", rules);
  }
  // huggingface_hub: HF_HOME defaults to $XDG_CACHE_HOME/huggingface, on Windows too.
  std::optional<std::string> cache = non_empty(env, "XDG_CACHE_HOME");
  if (cache) {
    cache = expand_home(std::move(*cache), env, rules);
  } else if (const auto home = home_directory(env, rules)) {
    cache = join(*home, ".cache", rules);
  } else {
    return std::nullopt;
  }
  return join(join(std::move(*cache), "huggingface", rules), "token", rules);
}

bool is_valid_token(std::string_view token) {
  if (token.empty()) return false;
  for (const char c : token) {
    if (c < '!' || c > '~') return false;  // '!' = 0x21, '~' = 0x7E; char may be signed
  }
  return true;
}

ScopedToken find_token(const std::string& explicit_token, const EnvLookup& env) {
  if (!explicit_token.empty()) return {explicit_token, TokenScope::kAnyEndpoint};
  if (const auto value = non_empty(env, "RVAE_TOKEN")) {
    if (auto token = clean(*value)) return {std::move(*token), TokenScope::kAnyEndpoint};
  }
  return {resolve_token({}, env), TokenScope::kHuggingFaceHosts};
}

std::string resolve_token(const std::string& explicit_token, const EnvLookup& env) {
  if (!explicit_token.empty()) return explicit_token;
  for (const char* name : {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"}) {
    if (const auto value = non_empty(env, name)) {
      if (auto token = clean(*value)) return std::move(*token);
    }
  }
  if (const auto path = token_file_path(env, kNativePathRules)) {
    if (const auto contents = read_small_file(*path)) {
      if (auto token = clean(*contents)) return std::move(*token);
    }
  }
  return {};
}

}  // namespace rvae::detail
