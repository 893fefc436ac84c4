#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "partial_file.hpp"
#include "rvae/error.hpp"
#include "rvae/latent_file.hpp"

namespace rvae::cli {
PartialFile::PartialFile(std::string path) : path_(std::move(path)) {
  // Hidden and beside the target, as the library names its temporaries: a listing or glob of the
  // directory never picks it up, and the rename stays within one file system.
  const std::size_t slash = path_.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "" : path_.substr(0, slash + 1);
  const std::string name = path_.substr(slash == std::string::npos ? 0 : slash + 1).substr(0, 128);
  static std::atomic<unsigned long long> counter{0};
  int open_error = 0;
  for (int attempt = 0; attempt < 16 && fd_ < 0; ++attempt) {
    temporary_ = dir + "." + name + ".part-" + std::to_string(static_cast<long long>(::getpid())) +
                 "-" + std::to_string(counter.fetch_add(1));
    fd_ = ::open(temporary_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0666);
    open_error = fd_ < 0 ? errno : 0;
    if (fd_ < 0 && open_error != EEXIST && open_error != EINTR) break;
  }
  if (fd_ < 0) throw file_error(open_error, "write", path_);
  temporary_exists_ = true;
}

PartialFile::~PartialFile() {
  if (fd_ >= 0) ::close(fd_);
  if (temporary_exists_) ::unlink(temporary_.c_str());
}

void PartialFile::fail(int error) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(temporary_.c_str());
  temporary_exists_ = false;
  throw file_error(error, "write", path_);
}

void PartialFile::write_at(std::uint64_t offset, const std::uint8_t* data, std::size_t size) {
  if (fd_ < 0) fail(EBADF);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pwrite(fd_, data + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(errno);
    if (n == 0) fail(EIO);  // No progress and no errno: do not spin.
    done += static_cast<std::size_t>(n);
  }
}

void PartialFile::read_at(std::uint64_t offset, std::uint8_t* data, std::size_t size) {
  if (fd_ < 0) fail(EBADF);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd_, data + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(errno);
    if (n == 0) fail(EIO);  // Shorter than what was written: the disk lost it.
    done += static_cast<std::size_t>(n);
  }
}

void PartialFile::commit() {
  if (fd_ < 0) fail(EBADF);
  // Without fsync a crash after the rename could leave an empty file under the final name.
  if (::fsync(fd_) != 0) fail(errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(temporary_.c_str());
    temporary_exists_ = false;
    throw file_error(error, "write", path_);
  }
  if (::rename(temporary_.c_str(), path_.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary_.c_str());
    temporary_exists_ = false;
    throw file_error(error, "write", path_);
  }
  temporary_exists_ = false;
}

}  // namespace rvae::cli
