// PartialFile on Windows: a CRT descriptor opened with the wide path (UTF-8 names), positioned
// reads and writes through its handle (OVERLAPPED offsets: no shared file pointer), _commit for
// the flush and MoveFileExW for the replace, since rename() refuses an existing target there.
#define WIN32_LEAN_AND_MEAN
#define NOMINMAX
#include <fcntl.h>
#include <io.h>
#include <process.h>
#include <sys/stat.h>
#include <windows.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <filesystem>

#include "partial_file.hpp"
#include "paths.hpp"
#include "rvae/error.hpp"
#include "rvae/latent_file.hpp"

namespace rvae::cli {
namespace {

// The errno for the Win32 errors these calls give, so that file_error words and codes them as
// the library does.
int errno_of(DWORD error) {
  switch (error) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
      return ENOENT;
    case ERROR_ACCESS_DENIED:
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
      return EACCES;
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
      return ENOSPC;
    case ERROR_FILE_EXISTS:
    case ERROR_ALREADY_EXISTS:
      return EEXIST;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
      return ENOMEM;
    default:
      return EIO;
  }
}

std::wstring wide(const std::string& path) {
  return fs_path(path).wstring();
}

HANDLE handle_of(int fd) {
  return reinterpret_cast<HANDLE>(::_get_osfhandle(fd));
}

OVERLAPPED at(std::uint64_t offset) {
  OVERLAPPED overlapped{};
  overlapped.Offset = static_cast<DWORD>(offset & 0xffffffffu);
  overlapped.OffsetHigh = static_cast<DWORD>(offset >> 32);
  return overlapped;
}

constexpr std::size_t kMaxPiece = 1u << 30;  // ReadFile and WriteFile take a DWORD count.

}  // namespace

PartialFile::PartialFile(std::string path) : path_(std::move(path)) {
  // Hidden (by its dot) and beside the target, as the library names its temporaries: a listing
  // or glob of the directory never picks it up, and the replace stays within one volume.
  const std::size_t slash = path_.find_last_of(kPathSeparators);
  const std::string dir = slash == std::string::npos ? "" : path_.substr(0, slash + 1);
  const std::string name = path_.substr(slash == std::string::npos ? 0 : slash + 1).substr(0, 128);
  static std::atomic<unsigned long long> counter{0};
  int open_error = 0;
  for (int attempt = 0; attempt < 16 && fd_ < 0; ++attempt) {
    temporary_ = dir + "." + name + ".part-" + std::to_string(::_getpid()) + "-" +
                 std::to_string(counter.fetch_add(1));
    fd_ = ::_wopen(wide(temporary_).c_str(),
                   _O_RDWR | _O_CREAT | _O_EXCL | _O_BINARY | _O_NOINHERIT, _S_IREAD | _S_IWRITE);
    open_error = fd_ < 0 ? errno : 0;
    if (fd_ < 0 && open_error != EEXIST) break;
  }
  if (fd_ < 0) throw file_error(open_error, "write", path_);
  temporary_exists_ = true;
}

PartialFile::~PartialFile() {
  if (fd_ >= 0) ::_close(fd_);
  if (temporary_exists_) ::_wunlink(wide(temporary_).c_str());
}

void PartialFile::fail(int error) {
  if (fd_ >= 0) ::_close(fd_);
  fd_ = -1;
  ::_wunlink(wide(temporary_).c_str());
  temporary_exists_ = false;
  throw file_error(error, "write", path_);
}

void PartialFile::write_at(std::uint64_t offset, const std::uint8_t* data, std::size_t size) {
  if (fd_ < 0) fail(EBADF);
  std::size_t done = 0;
  while (done < size) {
    OVERLAPPED overlapped = at(offset + done);
    DWORD written = 0;
    const auto piece = static_cast<DWORD>(std::min(size - done, kMaxPiece));
    if (!::WriteFile(handle_of(fd_), data + done, piece, &written, &overlapped)) {
      fail(errno_of(::GetLastError()));
    }
    if (written == 0) fail(EIO);  // No progress and no error: do not spin.
    done += written;
  }
}

void PartialFile::read_at(std::uint64_t offset, std::uint8_t* data, std::size_t size) {
  if (fd_ < 0) fail(EBADF);
  std::size_t done = 0;
  while (done < size) {
    OVERLAPPED overlapped = at(offset + done);
    DWORD read = 0;
    const auto piece = static_cast<DWORD>(std::min(size - done, kMaxPiece));
    if (!::ReadFile(handle_of(fd_), data + done, piece, &read, &overlapped)) {
      fail(errno_of(::GetLastError()));
    }
    if (read == 0) fail(EIO);  // Shorter than what was written: the disk lost it.
    done += read;
  }
}

void PartialFile::commit() {
  if (fd_ < 0) fail(EBADF);
  // Without the flush a crash after the replace could leave an empty file under the final name.
  if (::_commit(fd_) != 0) fail(errno);
  const int fd = fd_;
  fd_ = -1;
  if (::_close(fd) != 0) {
    const int error = errno;
    ::_wunlink(wide(temporary_).c_str());
    temporary_exists_ = false;
    throw file_error(error, "write", path_);
  }
  // Another program briefly holding the old target (a scanner, an indexer) fails the replace
  // with a denial or sharing violation: retried for about 0.2 s, as the library's writers do.
  for (DWORD attempt = 0;; ++attempt) {
    if (::MoveFileExW(wide(temporary_).c_str(), wide(path_).c_str(),
                      MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
      break;
    }
    const DWORD error = ::GetLastError();
    const bool busy = error == ERROR_ACCESS_DENIED || error == ERROR_SHARING_VIOLATION;
    if (!busy || attempt >= 20 || is_directory(path_)) {
      ::_wunlink(wide(temporary_).c_str());
      temporary_exists_ = false;
      throw file_error(is_directory(path_) ? EISDIR : errno_of(error), "write", path_);
    }
    ::Sleep(attempt + 1);
  }
  temporary_exists_ = false;
}

}  // namespace rvae::cli
