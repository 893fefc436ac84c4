// The POSIX implementation of core/file_io.hpp. A Win32 one would replace this file.
#include "core/file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

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

Error too_large(const std::string& path, std::optional<std::uint64_t> size, std::size_t limit) {
  const std::string what =
      size ? "is " + std::to_string(*size) + " bytes, larger than" : "is larger than";
  return Error(ErrorCode::kResourceExhausted,
               "'" + path + "' " + what + " the limit of " + std::to_string(limit) + " bytes");
}

// Reads into out[0, want) and returns how many bytes arrived before end of file.
Result<std::size_t> read_fully(int fd, std::uint8_t* out, std::size_t want,
                               const std::string& path) {
  std::size_t got = 0;
  while (got < want) {
    const ssize_t n = ::read(fd, out + got, want - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error(errno, "read", path);
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return got;
}

// Appends the rest of the file to `out` in chunks, until end of file or one byte past the cap
// (pipes and devices have no meaningful size, and a regular file may grow while read).
Result<void> read_rest(int fd, Bytes& out, std::size_t max_bytes, const std::string& path) {
  constexpr std::size_t kChunk = 64 * 1024;
  for (;;) {
    if (out.size() > max_bytes) return too_large(path, std::nullopt, max_bytes);
    const std::size_t old_size = out.size();
    // One byte past the cap is enough to tell "exactly at the cap" from "over it".
    const std::size_t room = max_bytes - old_size;
    const std::size_t want = room < kChunk ? room + 1 : kChunk;
    out.resize(old_size + want);
    RVAE_ASSIGN_OR_RETURN(std::size_t got, read_fully(fd, out.data() + old_size, want, path));
    out.resize(old_size + got);
    if (out.size() > max_bytes) return too_large(path, std::nullopt, max_bytes);
    if (got < want) return {};
  }
}

Result<Bytes> read_open_file(int fd, const std::string& path, const ReadFileOptions& options) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) return errno_error(errno, "read", path);
  if (S_ISDIR(info.st_mode)) {
    return Error(ErrorCode::kInvalidArgument, "'" + path + "' is a directory, not a regular file");
  }
  Bytes out;
  if (!S_ISREG(info.st_mode)) {
    if (options.regular_file_only) {
      return Error(ErrorCode::kInvalidArgument, "'" + path + "' is not a regular file");
    }
    RVAE_TRY(read_rest(fd, out, options.max_bytes, path));
    return out;
  }
  const auto file_size = static_cast<std::uint64_t>(info.st_size < 0 ? 0 : info.st_size);
  if (file_size > options.max_bytes) return too_large(path, file_size, options.max_bytes);
  // The size is checked before the allocation; a file that grows meanwhile is caught below.
  out.resize(static_cast<std::size_t>(file_size));
  RVAE_ASSIGN_OR_RETURN(std::size_t got, read_fully(fd, out.data(), out.size(), path));
  out.resize(got);  // The file may have shrunk since fstat.
  if (got < file_size) return out;
  // Files in /proc report size 0, and any file may have grown. One byte read aside first, so a
  // file of exactly its size (nearly always) does not grow `out`, which would copy it whole.
  std::uint8_t extra = 0;
  RVAE_ASSIGN_OR_RETURN(std::size_t more, read_fully(fd, &extra, 1, path));
  if (more == 0) return out;
  if (out.size() >= options.max_bytes) return too_large(path, std::nullopt, options.max_bytes);
  out.push_back(extra);
  RVAE_TRY(read_rest(fd, out, options.max_bytes, path));
  return out;
}

}  // namespace

ErrorCode error_code_for_errno(int error) noexcept {
  switch (error) {
    case ENOENT:
    case ENOTDIR:
      return ErrorCode::kNotFound;
    case EACCES:
    case EPERM:
    case EROFS:
      return ErrorCode::kPermissionDenied;
    case ENOSPC:
#ifdef EDQUOT
    case EDQUOT:
#endif
    case EFBIG:
    case ENOMEM:
    case EMFILE:
    case ENFILE:
      return ErrorCode::kResourceExhausted;
    case EIO:
      return ErrorCode::kDataLoss;
    default:  // EISDIR, ENAMETOOLONG, ELOOP, ...: the path itself is unusable.
      return ErrorCode::kInvalidArgument;
  }
}

Error errno_error(int error, std::string_view action, const std::string& path) {
  // generic_category's text is strerror's, without strerror's shared buffer.
  return Error(error_code_for_errno(error), "cannot " + std::string(action) + " '" + path +
                                                "': " + std::generic_category().message(error));
}

Result<Bytes> read_whole_file(const std::string& path, const ReadFileOptions& options) {
  int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY;
  if (options.regular_file_only) flags |= O_NONBLOCK;
  int fd = -1;
  do {
    fd = ::open(path.c_str(), flags);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return errno_error(errno, "read", path);
  const FileDescriptor file(fd);
  try {
    return read_open_file(file.get(), path, options);
  } catch (const std::bad_alloc&) {
    return Error(ErrorCode::kResourceExhausted, "not enough memory to read '" + path + "'");
  }
}

Result<void> write_file_atomically(const std::string& path, const std::uint8_t* data,
                                   std::size_t size) {
  if (path.empty()) return Error(ErrorCode::kInvalidArgument, "cannot write a file: empty path");
  if (data == nullptr && size != 0) {
    return Error(ErrorCode::kInvalidArgument, "cannot write '" + path + "': data is null");
  }
  // The temporary sits beside the target (rename is atomic only within one file system) and is
  // hidden, so a listing or a glob of the directory never picks up a half-written file. The name
  // is cut short so a long target name does not make the temporary's too long.
  const std::size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  const std::string name = path.substr(slash == std::string::npos ? 0 : slash + 1).substr(0, 128);
  static std::atomic<unsigned long long> counter{0};
  std::string temporary;
  int fd = -1;
  int open_error = 0;
  // Unique per process and call; a stale temporary of a dead process with our pid is skipped.
  for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
    temporary = dir + "." + name + ".tmp-" + std::to_string(static_cast<long long>(::getpid())) +
                "-" + std::to_string(counter.fetch_add(1, std::memory_order_relaxed));
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
