// The Win32 calls behind core/file_io.hpp; file_io_posix.cpp has POSIX's and file_io_common.cpp
// what both share. Paths arrive as UTF-8 and go to the W functions as UTF-16 (the A functions
// would read them in the ANSI code page); handles are binary, sizes 64-bit, and a replace is
// MoveFileExW's, since rename() refuses an existing target on Windows.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/file_io.hpp"
#include "core/file_io_parts.hpp"
#include "core/try.hpp"

namespace rvae::detail {
namespace {

// ERROR_DISK_QUOTA_EXCEEDED, which mingw-w64's headers lack.
constexpr DWORD kDiskQuotaExceeded = 1295;

// ReadFile and WriteFile take a DWORD count: larger requests go in pieces of this size.
constexpr std::size_t kMaxIo = std::size_t{1} << 30;

// Closes the handle on every path out of a function.
class FileHandle {
 public:
  explicit FileHandle(HANDLE handle) : handle_(handle) {}
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;
  ~FileHandle() {
    if (handle_ != INVALID_HANDLE_VALUE) CloseHandle(handle_);
  }
  HANDLE get() const { return handle_; }
  // Closes now and returns the error (0 on success): a failed close can mean lost data.
  DWORD close_now() {
    const HANDLE handle = handle_;
    handle_ = INVALID_HANDLE_VALUE;
    return CloseHandle(handle) ? 0 : GetLastError();
  }

 private:
  HANDLE handle_;
};

Error bad_path(std::string_view action, const std::string& path, std::string_view why) {
  return Error(ErrorCode::kInvalidArgument,
               "cannot " + std::string(action) + " '" + path + "': " + std::string(why));
}

// UTF-8 to UTF-16 for the W functions. Invalid UTF-8 and a NUL inside the path (which would
// silently cut it short) are refused.
Result<std::wstring> wide_path(const std::string& path, std::string_view action) {
  if (path.empty()) return std::wstring();
  if (path.find('\0') != std::string::npos) return bad_path(action, path, "NUL in the path");
  if (path.size() > INT_MAX) return bad_path(action, path, "path too long");
  const int length = static_cast<int>(path.size());
  const int wide_length =
      MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path.data(), length, nullptr, 0);
  if (wide_length <= 0) return bad_path(action, path, "the path is not valid UTF-8");
  std::wstring wide(static_cast<std::size_t>(wide_length), L'\0');
  MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path.data(), length, wide.data(), wide_length);
  return wide;
}

// The system's text for `error`, without the trailing period and line break it comes with.
std::string system_message(DWORD error) {
  wchar_t buffer[512];
  const DWORD length = FormatMessageW(
      FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS | FORMAT_MESSAGE_MAX_WIDTH_MASK,
      nullptr, error, 0, buffer, static_cast<DWORD>(sizeof buffer / sizeof *buffer), nullptr);
  std::string text = utf8_from_wide(buffer, length);
  while (!text.empty() &&
         (text.back() == ' ' || text.back() == '.' || text.back() == '\r' || text.back() == '\n')) {
    text.pop_back();
  }
  if (text.empty()) text = "Windows error " + std::to_string(error);
  return text;
}

bool is_directory(const std::wstring& path) {
  const DWORD attributes = GetFileAttributesW(path.c_str());
  return attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY) != 0;
}

// What the open handle is: a disk file has a size and may be a directory; a pipe or a console
// has neither.
Result<file_io::OpenedFile> describe(HANDLE handle, const std::string& path) {
  file_io::OpenedFile opened;
  const DWORD type = GetFileType(handle);
  if (type == FILE_TYPE_UNKNOWN && GetLastError() != NO_ERROR) {
    return win32_error(GetLastError(), "read", path);
  }
  if (type != FILE_TYPE_DISK) return opened;
  BY_HANDLE_FILE_INFORMATION information{};
  if (!GetFileInformationByHandle(handle, &information)) {
    return win32_error(GetLastError(), "read", path);
  }
  opened.directory = (information.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0;
  opened.regular = !opened.directory;
  LARGE_INTEGER size{};
  if (opened.regular && !GetFileSizeEx(handle, &size)) {
    return win32_error(GetLastError(), "read", path);
  }
  opened.size = static_cast<std::uint64_t>(size.QuadPart < 0 ? 0 : size.QuadPart);
  return opened;
}

}  // namespace

std::string utf8_from_wide(const wchar_t* text, std::size_t length) {
  if (length == 0 || length > INT_MAX) return {};
  const int wide_length = static_cast<int>(length);
  const int bytes =
      WideCharToMultiByte(CP_UTF8, 0, text, wide_length, nullptr, 0, nullptr, nullptr);
  if (bytes <= 0) return {};
  std::string out(static_cast<std::size_t>(bytes), '\0');
  WideCharToMultiByte(CP_UTF8, 0, text, wide_length, out.data(), bytes, nullptr, nullptr);
  return out;
}

ErrorCode error_code_for_win32(unsigned long error) noexcept {
  switch (error) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_DRIVE:
    case ERROR_BAD_NETPATH:
    case ERROR_BAD_NET_NAME:
    case ERROR_BAD_UNIT:
    case ERROR_NOT_READY:  // a removable drive without its medium
      return ErrorCode::kNotFound;
    case ERROR_ACCESS_DENIED:
    case ERROR_WRITE_PROTECT:
    case ERROR_PRIVILEGE_NOT_HELD:
      return ErrorCode::kPermissionDenied;
    case ERROR_SHARING_VIOLATION:  // another program holds the file open: later may work
    case ERROR_LOCK_VIOLATION:
      return ErrorCode::kUnavailable;
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
    case kDiskQuotaExceeded:
    case ERROR_FILE_TOO_LARGE:
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
    case ERROR_NOT_ENOUGH_QUOTA:
    case ERROR_TOO_MANY_OPEN_FILES:
      return ErrorCode::kResourceExhausted;
    case ERROR_CRC:
    case ERROR_READ_FAULT:
    case ERROR_WRITE_FAULT:
    case ERROR_IO_DEVICE:
    case ERROR_SECTOR_NOT_FOUND:
      return ErrorCode::kDataLoss;
    default:  // ERROR_INVALID_NAME, ERROR_FILENAME_EXCED_RANGE, ...: the path is unusable.
      return ErrorCode::kInvalidArgument;
  }
}

Error win32_error(unsigned long error, std::string_view action, const std::string& path) {
  return Error(error_code_for_win32(error),
               "cannot " + std::string(action) + " '" + path + "': " + system_message(error));
}

Result<Bytes> read_whole_file(const std::string& path, const ReadFileOptions& options) {
  RVAE_ASSIGN_OR_RETURN(const std::wstring wide, wide_path(path, "read"));
  // Others may read, write, rename or delete the file meanwhile, as on POSIX: a reader must not
  // make another program's atomic replace of the file fail.
  const HANDLE handle = CreateFileW(wide.c_str(), GENERIC_READ,
                                    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                                    OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (handle == INVALID_HANDLE_VALUE) {
    const DWORD error = GetLastError();
    // Windows opens no directory without FILE_FLAG_BACKUP_SEMANTICS and says "access denied":
    // say what POSIX says instead.
    if (error == ERROR_ACCESS_DENIED && is_directory(wide)) return file_io::is_a_directory(path);
    return win32_error(error, "read", path);
  }
  const FileHandle file(handle);
  RVAE_ASSIGN_OR_RETURN(const file_io::OpenedFile opened, describe(handle, path));
  const file_io::ReadSome read_some = [&](std::uint8_t* out,
                                          std::size_t want) -> Result<std::size_t> {
    DWORD got = 0;
    if (!ReadFile(handle, out, static_cast<DWORD>(want < kMaxIo ? want : kMaxIo), &got, nullptr)) {
      const DWORD error = GetLastError();
      // A pipe whose writer is gone ends like a file.
      if (error == ERROR_BROKEN_PIPE || error == ERROR_HANDLE_EOF) return std::size_t{0};
      return win32_error(error, "read", path);
    }
    return static_cast<std::size_t>(got);
  };
  return file_io::read_opened_file(opened, read_some, path, options);
}

constexpr DWORD kMaxReplaceRetries = 20;

Result<void> write_file_atomically(const std::string& path, const std::uint8_t* data,
                                   std::size_t size) {
  RVAE_TRY(file_io::check_write_arguments(path, data, size));
  RVAE_ASSIGN_OR_RETURN(const std::wstring wide_target, wide_path(path, "write"));
  // The temporary is hidden by its leading dot only, not FILE_ATTRIBUTE_HIDDEN: the attribute
  // would follow the file through MoveFileExW and hide the target.
  std::wstring wide_temporary;
  HANDLE handle = INVALID_HANDLE_VALUE;
  DWORD open_error = 0;
  // A stale temporary of a dead process with our id is skipped.
  for (int attempt = 0; attempt < 16 && handle == INVALID_HANDLE_VALUE; ++attempt) {
    const std::string temporary = file_io::temporary_path(
        path, kPathSeparators, GetCurrentProcessId(), file_io::next_temporary_serial());
    RVAE_ASSIGN_OR_RETURN(wide_temporary, wide_path(temporary, "write"));
    handle = CreateFileW(wide_temporary.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_NEW,
                         FILE_ATTRIBUTE_NORMAL, nullptr);
    open_error = handle == INVALID_HANDLE_VALUE ? GetLastError() : 0;
    if (open_error != ERROR_FILE_EXISTS && open_error != ERROR_ALREADY_EXISTS) break;
  }
  if (handle == INVALID_HANDLE_VALUE) return win32_error(open_error, "write", path);

  FileHandle file(handle);
  auto fail = [&](DWORD error) -> Error {
    if (file.get() != INVALID_HANDLE_VALUE) file.close_now();
    DeleteFileW(wide_temporary.c_str());
    return win32_error(error, "write", path);
  };
  std::size_t done = 0;
  while (done < size) {
    const std::size_t rest = size - done;
    DWORD written = 0;
    if (!WriteFile(handle, data + done, static_cast<DWORD>(rest < kMaxIo ? rest : kMaxIo), &written,
                   nullptr)) {
      return fail(GetLastError());
    }
    if (written == 0) return fail(ERROR_WRITE_FAULT);  // No progress and no error: do not spin.
    done += written;
  }
  // Without the flush a crash after the replace could leave an empty file under the final name.
  if (!FlushFileBuffers(handle)) return fail(GetLastError());
  if (const DWORD error = file.close_now(); error != 0) return fail(error);
  // Another writer's replace of the same target still in flight (the old file open for delete)
  // fails ours with ERROR_ACCESS_DENIED or a sharing violation: retried briefly, as POSIX
  // rename() would simply have succeeded.
  for (DWORD attempt = 0;; ++attempt) {
    if (MoveFileExW(wide_temporary.c_str(), wide_target.c_str(),
                    MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
      return {};
    }
    const DWORD error = GetLastError();
    if (error == ERROR_ACCESS_DENIED && is_directory(wide_target)) {
      DeleteFileW(wide_temporary.c_str());
      return Error(ErrorCode::kInvalidArgument, "cannot write '" + path + "': Is a directory");
    }
    const bool busy = error == ERROR_ACCESS_DENIED || error == ERROR_SHARING_VIOLATION;
    if (!busy || attempt >= kMaxReplaceRetries) return fail(error);
    Sleep(attempt + 1);  // 1 + 2 + ... ms: about 0.2 s in all before giving up
  }
}

}  // namespace rvae::detail
