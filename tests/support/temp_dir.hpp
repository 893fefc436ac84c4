// A scoped temporary directory for tests, portable to Windows (no mkdtemp, no `rm -rf`).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace rvae::testing_support {

class TempDir {
 public:
  // Created unique under the system's temporary directory; `prefix` names it for debugging.
  explicit TempDir(const std::string& prefix = "rvae_test") {
    namespace fs = std::filesystem;
    static std::atomic<std::uint64_t> serial{0};
    const fs::path base = fs::temp_directory_path();
    // Clock ticks and a per-process serial; create_directory fails when the name is taken,
    // so another process's directory is never reused.
    const auto ticks =
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    for (int attempt = 0; attempt < 100; ++attempt) {
      const fs::path candidate =
          base / (prefix + "_" + std::to_string(ticks) + "_" + std::to_string(serial++));
      std::error_code error;
      if (fs::create_directory(candidate, error)) {
        path_ = candidate;
        return;
      }
    }
    throw std::runtime_error("cannot create a temporary directory under " + base.string());
  }
  ~TempDir() {
    std::error_code ignored;  // never throw from a destructor
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& fs_path() const { return path_; }
  // The directory, and a name in it, as UTF-8 strings for the library's API.
  std::string str() const { return utf8(path_); }
  std::string path(const std::string& name) const {
    return utf8(path_ / std::filesystem::u8path(name));
  }

  static std::string utf8(const std::filesystem::path& p) {
    const auto text = p.u8string();  // std::string in C++17, std::u8string in C++20
    return std::string(text.begin(), text.end());
  }

 private:
  std::filesystem::path path_;
};

}  // namespace rvae::testing_support
