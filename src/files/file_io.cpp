// Whole-file reads with a size cap checked before allocating, and atomic whole-file writes
// (temporary name in the same directory, then rename) so a failure never leaves a half file.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "rvae/error.hpp"
#include "rvae/latent_file.hpp"

namespace rvae {
namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

// Closes the descriptor on every path out of a function.
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now and reports close()'s errno (0 on success): a failed close can mean lost data.
  int close_now() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

Error read_error(const std::string& path, int err) {
  return Error(ErrorCode::kDataLoss, "cannot read '" + path + "': " + errno_text(err));
}

Error too_large(const std::string& path, std::size_t limit) {
  return Error(ErrorCode::kResourceExhausted,
               "'" + path + "' is larger than the limit of " + std::to_string(limit) + " bytes");
}

// Reads into out[0, want) and returns how many bytes arrived before end of file.
Result<std::size_t> read_fully(int fd, std::uint8_t* out, std::size_t want,
                               const std::string& path) {
  std::size_t got = 0;
  while (got < want) {
    const ssize_t n = ::read(fd, out + got, want - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return read_error(path, errno);
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return got;
}

// Pipes and devices have no meaningful st_size: read in chunks, stopping at the cap.
Result<Bytes> read_stream(int fd, std::size_t max_bytes, const std::string& path) {
  constexpr std::size_t kChunk = 64 * 1024;
  Bytes out;
  for (;;) {
    const std::size_t old_size = out.size();
    // One byte past the cap is enough to tell "exactly at the cap" from "over it".
    const std::size_t room = max_bytes - old_size;
    const std::size_t want = room < kChunk ? room + 1 : kChunk;
    out.resize(old_size + want);
    auto got = read_fully(fd, out.data() + old_size, want, path);
    if (!got) return std::move(got).error();
    out.resize(old_size + *got);
    if (out.size() > max_bytes) return too_large(path, max_bytes);
    if (*got < want) return out;
  }
}

}  // namespace

Result<Bytes> read_file(const std::string& path, std::size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return Error(ErrorCode::kNotFound, "cannot open '" + path + "': " + errno_text(err));
  }
  FdGuard guard(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return read_error(path, errno);
  if (S_ISDIR(st.st_mode)) {
    return Error(ErrorCode::kInvalidArgument, "'" + path + "' is a directory, not a file");
  }
  if (!S_ISREG(st.st_mode)) return read_stream(fd, max_bytes, path);

  const auto file_size = static_cast<std::uint64_t>(st.st_size < 0 ? 0 : st.st_size);
  if (file_size > max_bytes) return too_large(path, max_bytes);
  // The size is checked before the allocation; a file that grows meanwhile is caught below.
  Bytes out(static_cast<std::size_t>(file_size));
  auto got = read_fully(fd, out.data(), out.size(), path);
  if (!got) return std::move(got).error();
  out.resize(*got);  // The file may have shrunk since fstat.
  if (*got == file_size) {
    std::uint8_t extra = 0;
    auto more = read_fully(fd, &extra, 1, path);
    if (!more) return std::move(more).error();
    if (*more != 0) {
      // The file grew after fstat; keep reading, still under the cap.
      if (out.size() >= max_bytes) return too_large(path, max_bytes);
      out.push_back(extra);
      auto rest = read_stream(fd, max_bytes - out.size(), path);
      if (!rest) return std::move(rest).error();
      out.insert(out.end(), rest->begin(), rest->end());
    }
  }
  return out;
}

Result<void> write_file(const std::string& path, const std::uint8_t* data, std::size_t size) {
  if (path.empty()) return Error(ErrorCode::kInvalidArgument, "cannot write a file: empty path");
  if (data == nullptr && size != 0) {
    return Error(ErrorCode::kInvalidArgument, "cannot write '" + path + "': data is null");
  }
  // Unique per process and per call, so concurrent writers never share a temporary.
  static std::atomic<unsigned long long> counter{0};
  const std::string tmp = path + ".tmp-" + std::to_string(static_cast<long long>(::getpid())) +
                          "-" + std::to_string(counter.fetch_add(1));

  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    const int err = errno;
    const ErrorCode code =
        err == ENOENT || err == ENOTDIR ? ErrorCode::kNotFound : ErrorCode::kInvalidArgument;
    return Error(code, "cannot write '" + path + "': " + errno_text(err));
  }
  FdGuard guard(fd);
  auto fail = [&](int err) -> Error {
    if (guard.get() >= 0) guard.close_now();
    ::unlink(tmp.c_str());
    // A full disk, quota or file size limit is a size cap; anything else is about the path.
    const ErrorCode code = err == ENOSPC || err == EDQUOT || err == EFBIG
                               ? ErrorCode::kResourceExhausted
                               : ErrorCode::kInvalidArgument;
    return Error(code, "cannot write '" + path + "': " + errno_text(err));
  };

  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, data + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno);
    }
    done += static_cast<std::size_t>(n);
  }
  // Without fsync a crash after the rename could leave an empty file under the final name.
  if (::fsync(fd) != 0) return fail(errno);
  if (const int err = guard.close_now(); err != 0) return fail(err);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail(errno);
  return {};
}

}  // namespace rvae
