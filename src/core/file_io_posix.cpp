// The POSIX system calls behind core/file_io.hpp; file_io_win32.cpp has Windows' and
// file_io_common.cpp what both share.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/file_io.hpp"
#include "core/file_io_parts.hpp"
#include "core/try.hpp"

namespace rvae::detail {
namespace {

// Closes the descriptor on every path out of a function.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now and returns close()'s errno (0 on success): a failed close can mean lost data.
  int close_now() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

}  // namespace

Result<Bytes> read_whole_file(const std::string& path, const ReadFileOptions& options) {
  int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY;
  if (options.regular_file_only) flags |= O_NONBLOCK;
  int fd = -1;
  do {
    fd = ::open(path.c_str(), flags);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return errno_error(errno, "read", path);
  const FileDescriptor file(fd);

  struct stat info {};
  if (::fstat(fd, &info) != 0) return errno_error(errno, "read", path);
  file_io::OpenedFile opened;
  opened.directory = S_ISDIR(info.st_mode);
  opened.regular = S_ISREG(info.st_mode);
  opened.size = static_cast<std::uint64_t>(info.st_size < 0 ? 0 : info.st_size);
  const file_io::ReadSome read_some = [&](std::uint8_t* out,
                                          std::size_t want) -> Result<std::size_t> {
    for (;;) {
      const ssize_t n = ::read(fd, out, want);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR) return errno_error(errno, "read", path);
    }
  };
  return file_io::read_opened_file(opened, read_some, path, options);
}

Result<void> write_file_atomically(const std::string& path, const std::uint8_t* data,
                                   std::size_t size) {
  RVAE_TRY(file_io::check_write_arguments(path, data, size));
  std::string temporary;
  int fd = -1;
  int open_error = 0;
  // A stale temporary of a dead process with our pid is skipped.
  for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
    temporary = file_io::temporary_path(path, "/", static_cast<unsigned long long>(::getpid()),
                                        file_io::next_temporary_serial());
    fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0666);
    open_error = fd < 0 ? errno : 0;
    if (fd < 0 && open_error != EEXIST && open_error != EINTR) break;
  }
  if (fd < 0) return errno_error(open_error, "write", path);

  FileDescriptor file(fd);
  auto fail = [&](int error) -> Error {
    if (file.get() >= 0) file.close_now();
    ::unlink(temporary.c_str());
    return errno_error(error, "write", path);
  };
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, data + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno);
    }
    if (n == 0) return fail(EIO);  // No progress and no errno: do not spin.
    done += static_cast<std::size_t>(n);
  }
  // Without fsync a crash after the rename could leave an empty file under the final name.
  if (::fsync(fd) != 0) return fail(errno);
  if (const int error = file.close_now(); error != 0) return fail(error);
  if (::rename(temporary.c_str(), path.c_str()) != 0) return fail(errno);
  return {};
}

}  // namespace rvae::detail
