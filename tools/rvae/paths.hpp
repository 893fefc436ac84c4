// Paths as the CLI handles them: UTF-8 strings throughout, turned into std::filesystem paths with
// u8path (on Windows a plain std::string would be read in the ANSI code page), and on Windows
// either slash ends a directory.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace rvae::cli {

#ifdef _WIN32
inline constexpr std::string_view kPathSeparators = "/\\";
#else
inline constexpr std::string_view kPathSeparators = "/";
#endif

inline bool is_path_separator(char c) {
  return kPathSeparators.find(c) != std::string_view::npos;
}

/// The filesystem path of a UTF-8 path.
inline std::filesystem::path fs_path(const std::string& utf8) {
  return std::filesystem::u8path(utf8);
}

/// True when `path` names an existing directory (or a link to one).
inline bool is_directory(const std::string& path) {
  std::error_code error;
  return std::filesystem::is_directory(fs_path(path), error);
}

}  // namespace rvae::cli
