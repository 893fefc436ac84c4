// The Win32 file layer (src/core/file_io_win32.cpp) and the token file's Windows location,
// exercised as a Windows program: the Windows suite's test windows_file_io_smoke, or built alone
// and run under wine (or on Windows) by scripts/windows/file-io-smoke.sh. Prints one line per
// check and a closing "N passed, N failed"; exits 1 when any failed.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#include <winioctl.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "api/token_source.hpp"
#include "core/file_io.hpp"

namespace {

namespace fs = std::filesystem;
using rvae::Bytes;
using rvae::ErrorCode;
using rvae::Result;
using rvae::detail::ReadFileOptions;

int passed = 0;
int failed = 0;

void check(bool ok, const std::string& what, const std::string& detail = "") {
  (ok ? passed : failed)++;
  std::printf("%s %s%s%s\n", ok ? "ok  " : "FAIL", what.c_str(), detail.empty() ? "" : ": ",
              detail.c_str());
}

// The error's code and message, or "ok".
template <typename T>
std::string describe(const Result<T>& result) {
  if (result) return "ok";
  return "code " + std::to_string(static_cast<int>(result.error().code())) + ", \"" +
         result.error().message() + "\"";
}

template <typename T>
bool fails_with(const Result<T>& result, ErrorCode code, const std::string& text) {
  return !result && result.error().code() == code &&
         result.error().message().find(text) != std::string::npos;
}

Result<void> write(const std::string& path, const Bytes& data) {
  return rvae::detail::write_file_atomically(path, data.data(), data.size());
}

Result<Bytes> read(const std::string& path, std::size_t max_bytes = SIZE_MAX,
                   bool regular_file_only = false) {
  ReadFileOptions options;
  options.max_bytes = max_bytes;
  options.regular_file_only = regular_file_only;
  return rvae::detail::read_whole_file(path, options);
}

// Names in the directory as UTF-8, hidden ones (where temporaries go) included.
std::set<std::string> entries(const fs::path& dir) {
  std::set<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    const std::wstring wide = entry.path().filename().wstring();
    const int length = static_cast<int>(wide.size());
    std::string name(static_cast<std::size_t>(length) * 4, '\0');
    const int bytes = WideCharToMultiByte(CP_UTF8, 0, wide.data(), length, name.data(),
                                          static_cast<int>(name.size()), nullptr, nullptr);
    name.resize(static_cast<std::size_t>(bytes < 0 ? 0 : bytes));
    names.insert(name);
  }
  return names;
}

std::string join(const std::set<std::string>& names) {
  std::string out;
  for (const std::string& name : names)
    out += (out.empty() ? "" : " ") + name;
  return out;
}

// A sparse file of `size` bytes, so a size past 4 GiB costs no disk.
bool make_sparse_file(const std::wstring& path, long long size) {
  const HANDLE handle = CreateFileW(path.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS,
                                    FILE_ATTRIBUTE_NORMAL, nullptr);
  if (handle == INVALID_HANDLE_VALUE) return false;
  DWORD ignored = 0;
  DeviceIoControl(handle, FSCTL_SET_SPARSE, nullptr, 0, nullptr, 0, &ignored, nullptr);
  LARGE_INTEGER end{};
  end.QuadPart = size;
  const bool ok = SetFilePointerEx(handle, end, nullptr, FILE_BEGIN) && SetEndOfFile(handle);
  CloseHandle(handle);
  return ok;
}

}  // namespace

int main() {
  const fs::path dir = fs::temp_directory_path() / "rvae_file_io_smoke";
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  fs::create_directories(dir);
  const std::string base = dir.string() + "\\";  // ASCII, so string() is the UTF-8 too

  // Binary: CR LF, Ctrl-Z (end of file in text mode), NUL and every other byte value.
  Bytes first = {'a', '\r', '\n', 0x1a, 0x00, '\n', 'b'};
  for (int i = 0; i < 256; ++i)
    first.push_back(static_cast<std::uint8_t>(i));
  const Bytes second = {'\r', '\n', 0x1a, '\r', 'z'};

  const std::string target = base + "a.bin";
  Result<void> wrote = write(target, first);
  check(static_cast<bool>(wrote), "write a new file", describe(wrote));
  Result<Bytes> got = read(target);
  check(got && *got == first, "read it back byte-exact (CR LF, 0x1A, NUL)",
        got ? std::to_string(got->size()) + " bytes" : describe(got));

  wrote = write(target, second);
  check(static_cast<bool>(wrote), "overwrite it (MoveFileExW replaces the target)",
        describe(wrote));
  got = read(target);
  check(got && *got == second, "read the replacement back byte-exact",
        got ? std::to_string(got->size()) + " bytes" : describe(got));
  check(entries(dir) == std::set<std::string>{"a.bin"}, "no temporary left beside it",
        join(entries(dir)));

  const std::string missing = base + "missing.bin";
  got = read(missing);
  check(fails_with(got, ErrorCode::kNotFound, missing), "a missing file is NotFound naming it",
        describe(got));
  got = read(base + "no_dir\\x.bin");
  check(fails_with(got, ErrorCode::kNotFound, "no_dir"), "a missing directory is NotFound",
        describe(got));

  fs::create_directories(dir / "sub");
  got = read(base + "sub");
  check(fails_with(got, ErrorCode::kInvalidArgument, "is a directory"),
        "reading a directory is InvalidArgument \"is a directory\"", describe(got));
  wrote = write(base + "sub", second);
  check(fails_with(wrote, ErrorCode::kInvalidArgument, "Is a directory"),
        "writing over a directory is InvalidArgument", describe(wrote));
  wrote = write(base + "no_dir\\x.bin", second);
  check(fails_with(wrote, ErrorCode::kNotFound, "no_dir"),
        "writing into a missing directory is NotFound", describe(wrote));
  check(entries(dir) == std::set<std::string>{"a.bin", "sub"}, "failed writes leave nothing",
        join(entries(dir)));

  // "dé€.bin" in UTF-8: two- and three-byte sequences, not in most ANSI code pages together.
  const std::string utf8_name = "d\xC3\xA9\xE2\x82\xAC.bin";
  wrote = write(base + utf8_name, first);
  check(static_cast<bool>(wrote), "write a UTF-8 path (d\xC3\xA9\xE2\x82\xAC.bin)",
        describe(wrote));
  check(fs::exists(dir / std::wstring(L"d\u00e9\u20ac.bin")),
        "the file has the UTF-16 name d\xC3\xA9\xE2\x82\xAC.bin", join(entries(dir)));
  got = read(base + utf8_name);
  check(got && *got == first, "read the UTF-8 path back", describe(got));
  wrote = write(base + utf8_name, second);
  got = read(base + utf8_name);
  check(wrote && got && *got == second, "replace the UTF-8 path", describe(got));
  // The temporary keeps 128 bytes of the name: here the cut falls inside "é", and must not.
  const std::string long_name = std::string(127, 'n') + "\xC3\xA9.bin";
  wrote = write(base + long_name, first);
  got = read(base + long_name);
  check(wrote && got && *got == first, "a long name with a character across the 128-byte cut",
        describe(wrote));
  got = read(base + "bad\xC3.bin");
  check(fails_with(got, ErrorCode::kInvalidArgument, "not valid UTF-8"),
        "invalid UTF-8 is InvalidArgument", describe(got));

  got = read(target, 4);
  check(fails_with(got, ErrorCode::kResourceExhausted, "is 5 bytes, larger than the limit of 4"),
        "a file over the cap is refused by its size", describe(got));
  got = read(target, 5);
  check(got && *got == second, "a file at the cap is read", describe(got));

  // 5 GiB: a 32-bit size would wrap to 1 GiB and pass a 2 GiB cap.
  const fs::path huge = dir / "huge.bin";
  if (make_sparse_file(huge.wstring(), 5LL << 30)) {
    got = read(huge.string(), std::size_t{2} << 30);
    check(fails_with(got, ErrorCode::kResourceExhausted, "is 5368709120 bytes"),
          "a 5 GiB file is refused by its 64-bit size before allocating", describe(got));
    fs::remove(huge, ignored);
  } else {
    check(false, "make a sparse 5 GiB file", std::to_string(GetLastError()));
  }

  got = read("NUL", 100, true);
  check(fails_with(got, ErrorCode::kInvalidArgument, "not a regular file"),
        "regular_file_only refuses the NUL device", describe(got));
  got = read("NUL");
  check(got && got->empty(), "the NUL device is read as empty otherwise", describe(got));

  check(
      rvae::detail::error_code_for_win32(ERROR_DISK_FULL) == ErrorCode::kResourceExhausted &&
          rvae::detail::error_code_for_win32(ERROR_HANDLE_DISK_FULL) ==
              ErrorCode::kResourceExhausted &&
          rvae::detail::error_code_for_win32(ERROR_ACCESS_DENIED) == ErrorCode::kPermissionDenied &&
          rvae::detail::error_code_for_win32(ERROR_PATH_NOT_FOUND) == ErrorCode::kNotFound,
      "Win32 errors map onto errno's codes");
  const rvae::Error disk_full = rvae::detail::win32_error(ERROR_DISK_FULL, "write", "x.bin");
  check(disk_full.message().rfind("cannot write 'x.bin': ", 0) == 0 &&
            disk_full.message().back() != '.' && disk_full.message().back() != '\n',
        "Win32 messages name the action and the file", disk_full.message());

  // The token file: the Windows default under the profile, and a token read through the layer
  // from a UTF-8 HF_HOME (CR LF after the token, as Notepad writes it).
  const rvae::detail::EnvLookup real_env = rvae::detail::process_env();
  const std::optional<std::string> profile = real_env("USERPROFILE");
  const std::optional<std::string> default_path = rvae::detail::token_file_path(real_env);
  if (real_env("HF_TOKEN_PATH") || real_env("HF_HOME") || real_env("XDG_CACHE_HOME")) {
    std::printf("skip the default token path: HF_TOKEN_PATH, HF_HOME or XDG_CACHE_HOME is set\n");
  } else {
    check(profile && default_path == *profile + "\\.cache\\huggingface\\token",
          "the default token file is under %USERPROFILE%", default_path.value_or("none"));
  }
  const std::string hf_home = base + "hf d\xC3\xA9";
  fs::create_directories(dir / std::wstring(L"hf d\u00e9"));
  const std::string token_text = "hf_smoke\r\n";
  wrote = write(hf_home + "\\token", Bytes(token_text.begin(), token_text.end()));
  const std::map<std::string, std::string> vars = {{"HF_HOME", hf_home}};
  const std::string token =
      rvae::detail::resolve_token("", [&](const char* name) -> std::optional<std::string> {
        const auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
      });
  check(wrote && token == "hf_smoke", "the token is read from %HF_HOME%\\token (a UTF-8 path)",
        token.empty() ? describe(wrote) : "found");

  fs::remove_all(dir, ignored);
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
