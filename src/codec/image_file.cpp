// read_image and write_image: plain POSIX file I/O, kept here so the codec layer depends on no
// other layer.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <climits>
#include <new>
#include <string>
#include <system_error>
#include <utility>

#include "rvae/image.hpp"

namespace rvae {
namespace {

std::string errno_text(int error) {
  return std::generic_category().message(error);
}

ErrorCode code_for_errno(int error) {
  switch (error) {
    case ENOENT:
    case ENOTDIR:
      return ErrorCode::kNotFound;
    case EACCES:
    case EPERM:
    case EROFS:
      return ErrorCode::kPermissionDenied;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return ErrorCode::kResourceExhausted;
    default:
      return ErrorCode::kInvalidArgument;
  }
}

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  /// Closes now and reports the error close() saw (0 on success).
  int close() {
    const int result = ::close(fd_);
    fd_ = -1;
    return result == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

// Returns 0, or the errno of the failed write.
int write_all(int fd, const std::uint8_t* data, std::size_t size) {
  while (size > 0) {
    const ssize_t written = ::write(fd, data, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += written;
    size -= static_cast<std::size_t>(written);
  }
  return 0;
}

Error write_error(const std::string& what, const std::string& path, int error) {
  return Error(code_for_errno(error),
               "cannot " + what + " image file '" + path + "': " + errno_text(error));
}

// Writes through a temporary file in the same directory and renames it over `path`, so a reader
// never sees a half-written image. No fsync: the goal is atomic replacement, not durability
// across a power loss, and an fsync per image would dominate batch writes.
Result<void> write_file_atomically(const std::string& path, const Bytes& bytes) {
  static std::atomic<unsigned> counter{0};
  std::string temp_path;
  int fd = -1;
  for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
    temp_path = path + ".tmp-" + std::to_string(::getpid()) + "-" +
                std::to_string(counter.fetch_add(1, std::memory_order_relaxed));
    fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) return write_error("create", path, errno);
  FileDescriptor file(fd);
  int error = write_all(file.get(), bytes.data(), bytes.size());
  const int close_error = file.close();
  if (error == 0) error = close_error;
  if (error == 0 && ::rename(temp_path.c_str(), path.c_str()) != 0) error = errno;
  if (error != 0) {
    ::unlink(temp_path.c_str());
    return write_error("write", path, error);
  }
  return {};
}

std::string lowercase_extension(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  const std::size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string extension = path.substr(dot);
  for (char& c : extension)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return extension;
}

}  // namespace

Result<Image> read_image(const std::string& path, const ImageDecodeOptions& options) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    return Error(ErrorCode::kNotFound,
                 "cannot open image file '" + path + "': " + errno_text(error));
  }
  FileDescriptor file(fd);
  struct stat info {};
  if (::fstat(file.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
    return Error(ErrorCode::kInvalidArgument, "image path '" + path + "' is not a regular file");
  }
  // decode_image cannot take more than INT_MAX bytes; refuse before allocating.
  if (info.st_size > static_cast<off_t>(INT_MAX)) {
    return Error(ErrorCode::kResourceExhausted, "image file '" + path + "' is " +
                                                    std::to_string(info.st_size) +
                                                    " bytes; the limit is 2^31-1");
  }
  Bytes data;
  try {
    data.resize(static_cast<std::size_t>(info.st_size));
  } catch (const std::bad_alloc&) {
    return Error(ErrorCode::kResourceExhausted, "out of memory reading image file '" + path + "'");
  }
  std::size_t filled = 0;
  while (filled < data.size()) {
    const ssize_t got = ::read(file.get(), data.data() + filled, data.size() - filled);
    if (got < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      return Error(ErrorCode::kDataLoss,
                   "cannot read image file '" + path + "': " + errno_text(error));
    }
    if (got == 0) break;  // the file shrank since fstat; decode what is there
    filled += static_cast<std::size_t>(got);
  }
  data.resize(filled);
  return decode_image(data.data(), data.size(), options);
}

Result<void> write_image(const std::string& path, const Image& image, int jpeg_quality) {
  const std::string extension = lowercase_extension(path);
  const bool png = extension == ".png";
  if (!png && extension != ".jpg" && extension != ".jpeg") {
    return Error(ErrorCode::kInvalidArgument, "cannot tell the image format of '" + path +
                                                  "': use a .png, .jpg or .jpeg extension");
  }
  Result<Bytes> encoded = png ? encode_png(image) : encode_jpeg(image, jpeg_quality);
  if (!encoded) return std::move(encoded).error();
  return write_file_atomically(path, *encoded);
}

}  // namespace rvae
