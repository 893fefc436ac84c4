// The one whole-file read and atomic write routine: every error it can return, provoked.
#include "core/file_io.hpp"

#ifdef _WIN32
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/file_io_parts.hpp"
#include "support/temp_dir.hpp"

namespace rvae::detail {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Windows words a system error's cause in its own (localised) text: there only the start of a
// message, naming the action and the path, is checked; POSIX systems check strerror's words.
#ifdef _WIN32
constexpr bool kPosixCauses = false;
#else
constexpr bool kPosixCauses = true;
#endif

#ifdef _WIN32
// Wine's ntdll exports wine_get_version; Windows' does not.
bool running_under_wine() {
  const HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  return ntdll != nullptr && GetProcAddress(ntdll, "wine_get_version") != nullptr;
}
#endif

// A fresh directory per test, removed with its contents afterwards (made writable first).
class CoreFileIo : public ::testing::Test {
 protected:
  void TearDown() override {
    // Made writable again so that temp_ can remove them.
    std::error_code ignored;
    for (const fs::directory_entry& entry :
         fs::recursive_directory_iterator(temp_.fs_path(), ignored)) {
      fs::permissions(entry.path(), fs::perms::owner_all, fs::perm_options::add, ignored);
    }
  }

  // Names in the directory, hidden ones (where temporaries go) included.
  std::set<std::string> entries() const {
    std::set<std::string> names;
    for (const fs::directory_entry& entry : fs::directory_iterator(temp_.fs_path())) {
      names.insert(testing_support::TempDir::utf8(entry.path().filename()));
    }
    return names;
  }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  static Result<void> write(const std::string& path, const Bytes& data) {
    return write_file_atomically(path, data.data(), data.size());
  }

  static Result<Bytes> read(const std::string& path, std::size_t max_bytes = SIZE_MAX,
                            bool regular_file_only = false) {
    ReadFileOptions options;
    options.max_bytes = max_bytes;
    options.regular_file_only = regular_file_only;
    return read_whole_file(path, options);
  }

  const testing_support::TempDir temp_{"rvae_core_file_io"};
  const std::string dir_ = temp_.str();
};

Bytes every_byte_value() {
  Bytes bytes;
  for (int i = 0; i < 1000; ++i)
    bytes.push_back(static_cast<std::uint8_t>(i * 7 % 256));
  return bytes;
}

// ---- writes --------------------------------------------------------------------------------

TEST_F(CoreFileIo, WriteThenReadRoundTripsAndLeavesOnlyTheTarget) {
  const Bytes data = every_byte_value();
  ASSERT_TRUE(write(path("a.bin"), data));
  Result<Bytes> back = read(path("a.bin"));
  ASSERT_TRUE(back) << back.error().what();
  EXPECT_EQ(*back, data);
  EXPECT_EQ(entries(), std::set<std::string>{"a.bin"});
}

TEST_F(CoreFileIo, WriteReplacesAnExistingFileWhole) {
  ASSERT_TRUE(write(path("f"), Bytes(100, 0xAA)));
  ASSERT_TRUE(write(path("f"), Bytes{1, 2, 3}));
  EXPECT_EQ(read(path("f")).value(), (Bytes{1, 2, 3}));
  EXPECT_EQ(entries(), std::set<std::string>{"f"});
}

TEST_F(CoreFileIo, EmptyWriteMayPassNullData) {
  ASSERT_TRUE(write_file_atomically(path("empty"), nullptr, 0));
  EXPECT_TRUE(read(path("empty")).value().empty());
}

TEST_F(CoreFileIo, WriteRejectsEmptyPathAndNullData) {
  const Result<void> empty_path = write("", Bytes{1});
  ASSERT_FALSE(empty_path);
  EXPECT_EQ(empty_path.error().code(), ErrorCode::kInvalidArgument);
  const Result<void> null_data = write_file_atomically(path("x"), nullptr, 5);
  ASSERT_FALSE(null_data);
  EXPECT_EQ(null_data.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(null_data.error().message(), HasSubstr(path("x")));
  EXPECT_TRUE(entries().empty());
}

TEST_F(CoreFileIo, WriteIntoMissingDirectoryIsNotFoundNamingPathAndCause) {
  const std::string target = path("no/such/dir/file.bin");
  const Result<void> result = write(target, Bytes{1, 2});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kNotFound);
  if (kPosixCauses) {
    EXPECT_EQ(result.error().message(), "cannot write '" + target + "': No such file or directory");
  } else {
    EXPECT_THAT(result.error().message(), StartsWith("cannot write '" + target + "': "));
  }
}

TEST_F(CoreFileIo, WriteBelowARegularFileIsNotFound) {
  ASSERT_TRUE(write(path("plain"), Bytes{1}));
  const Result<void> result = write(path("plain/child"), Bytes{1});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kNotFound);
  if (kPosixCauses) {
    EXPECT_THAT(result.error().message(), HasSubstr("Not a directory"));
  }
  EXPECT_EQ(entries(), std::set<std::string>{"plain"});
}

TEST_F(CoreFileIo, FailedRenameLeavesNoTemporary) {
  // The temporary is created and written beside the target, but a directory cannot be replaced
  // by a file: only the rename fails.
  ASSERT_TRUE(fs::create_directory(fs::u8path(path("target"))));
  const Result<void> result = write(path("target"), Bytes{1, 2, 3});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(result.error().message(), "cannot write '" + path("target") + "': Is a directory");
  EXPECT_EQ(entries(), std::set<std::string>{"target"});
  EXPECT_TRUE(fs::is_empty(path("target")));
}

TEST_F(CoreFileIo, FailedWriteIsResourceExhaustedAndLeavesNoTemporary) {
#ifdef _WIN32
  GTEST_SKIP() << "no file size limit (RLIMIT_FSIZE) on Windows to make a write fail part-way";
#else
  // A file size limit makes write() fail with EFBIG part-way, as a full disk (ENOSPC) would.
  struct rlimit saved {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = saved;
  small.rlim_cur = 1000;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const Result<void> result = write(path("big"), Bytes(5000, 0x55));
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_THAT(result.error().message(), HasSubstr(path("big")));
  EXPECT_TRUE(entries().empty());
#endif
}

TEST_F(CoreFileIo, UnusableNameIsInvalidArgument) {
#ifdef _WIN32
  if (running_under_wine()) {
    GTEST_SKIP() << "wine reports a name longer than 255 characters as not found "
                    "(ERROR_FILE_NOT_FOUND); Windows as ERROR_INVALID_NAME";
  }
#endif
  const Result<void> result = write(path(std::string(300, 'n')), Bytes{1});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument) << result.error().what();
  if (kPosixCauses) {
    EXPECT_THAT(result.error().message(), HasSubstr("File name too long"));
  }
  EXPECT_TRUE(entries().empty());
}

TEST_F(CoreFileIo, LongestNameIsWrittenThoughTheTemporaryAddsASuffix) {
  const std::string name(255, 'n');  // NAME_MAX on Linux file systems
  ASSERT_TRUE(write(path(name), Bytes{9})) << "the temporary's name must fit too";
  EXPECT_EQ(entries(), std::set<std::string>{name});
}

TEST_F(CoreFileIo, UnwritableDirectoryIsPermissionDenied) {
#ifdef _WIN32
  GTEST_SKIP() << "Windows ignores a directory's read-only attribute for the files in it";
#else
  std::string target;
  if (::geteuid() == 0) {
    // Root ignores mode bits; sysfs refuses to create files even for root.
    target = "/sys/rvae_core_file_io_test";
  } else {
    ASSERT_EQ(::mkdir(path("ro").c_str(), 0555), 0);
    target = path("ro/file");
  }
  const Result<void> result = write(target, Bytes{1});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kPermissionDenied) << result.error().message();
  EXPECT_THAT(result.error().message(), HasSubstr(target));
#endif
}

TEST_F(CoreFileIo, ConcurrentWritersToOneTargetLeaveOneWholeFile) {
  // Each writer has its own temporary; the last rename wins and no reader sees a mixture.
  constexpr int kWriters = 4;
  constexpr int kRounds = 20;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([this, w] {
      const Bytes data(64 * 1024, static_cast<std::uint8_t>(w + 1));
      for (int i = 0; i < kRounds; ++i) {
        const Result<void> written = write(path("shared"), data);
        EXPECT_TRUE(written) << written.error().what();
      }
    });
  }
  for (std::thread& writer : writers)
    writer.join();
  const Bytes back = read(path("shared")).value();
  ASSERT_EQ(back.size(), 64u * 1024);
  EXPECT_EQ(Bytes(back.size(), back[0]), back);
  EXPECT_EQ(entries(), std::set<std::string>{"shared"});
}

// ---- reads ---------------------------------------------------------------------------------

TEST_F(CoreFileIo, ReadMissingFileIsNotFoundNamingThePath) {
  const Result<Bytes> result = read(path("missing.bin"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kNotFound);
  if (kPosixCauses) {
    EXPECT_EQ(result.error().message(),
              "cannot read '" + path("missing.bin") + "': No such file or directory");
  } else {
    EXPECT_THAT(result.error().message(),
                StartsWith("cannot read '" + path("missing.bin") + "': "));
  }
}

TEST_F(CoreFileIo, ReadBelowARegularFileIsNotFound) {
  ASSERT_TRUE(write(path("plain"), Bytes{1}));
  const Result<Bytes> result = read(path("plain/child"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kNotFound);
  if (kPosixCauses) {
    EXPECT_THAT(result.error().message(), HasSubstr("Not a directory"));
  }
}

TEST_F(CoreFileIo, ReadDirectoryIsInvalidArgument) {
  for (const bool regular_only : {false, true}) {
    const Result<Bytes> result = read(dir_, SIZE_MAX, regular_only);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(result.error().message(), "'" + dir_ + "' is a directory, not a regular file");
  }
}

TEST_F(CoreFileIo, UnreadableFileIsPermissionDenied) {
#ifdef _WIN32
  GTEST_SKIP() << "Windows has no mode bits to make a file unreadable (chmod 0)";
#else
  if (::geteuid() == 0) GTEST_SKIP() << "root reads files regardless of their mode";
  ASSERT_TRUE(write(path("secret"), Bytes{1}));
  ASSERT_EQ(::chmod(path("secret").c_str(), 0), 0);
  const Result<Bytes> result = read(path("secret"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(result.error().message(), HasSubstr(path("secret")));
  EXPECT_THAT(result.error().message(), HasSubstr("Permission denied"));
#endif
}

TEST_F(CoreFileIo, ReadHonoursTheSizeCap) {
  ASSERT_TRUE(write(path("f"), Bytes(100, 7)));
  EXPECT_EQ(read(path("f"), 100).value().size(), 100u);
  const Result<Bytes> over = read(path("f"), 99);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(over.error().message(),
            "'" + path("f") + "' is 100 bytes, larger than the limit of 99 bytes");
}

TEST_F(CoreFileIo, HugeFileIsRefusedByItsSizeBeforeReading) {
  const std::string huge = path("huge");
  ASSERT_TRUE(std::ofstream(fs::u8path(huge), std::ios::binary));
  fs::resize_file(fs::u8path(huge), std::uintmax_t{3} << 30);  // sparse: takes no disk space
  const Result<Bytes> result = read(huge, 1 << 20);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_THAT(result.error().message(), HasSubstr("3221225472 bytes"));
}

TEST_F(CoreFileIo, ReadsAPipeUnderTheCapAndRejectsOneOver) {
#ifdef _WIN32
  GTEST_SKIP() << "reads a pipe by its /dev/fd name, which Windows has not";
#else
  const std::string text = "streamed bytes";
  for (const std::size_t cap : {text.size(), text.size() - 1}) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    ASSERT_EQ(::write(fds[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fds[1]);
    const Result<Bytes> result = read("/dev/fd/" + std::to_string(fds[0]), cap);
    ::close(fds[0]);
    if (cap == text.size()) {
      ASSERT_TRUE(result) << result.error().what();
      EXPECT_EQ(std::string(result->begin(), result->end()), text);
    } else {
      ASSERT_FALSE(result);
      EXPECT_EQ(result.error().code(), ErrorCode::kResourceExhausted);
      EXPECT_THAT(result.error().message(), HasSubstr(std::to_string(cap)));
    }
  }
#endif
}

TEST_F(CoreFileIo, EndlessDeviceStopsAtTheCap) {
#ifdef _WIN32
  GTEST_SKIP() << "no endless device (/dev/zero) on Windows";
#else
  const Result<Bytes> result = read("/dev/zero", 200000);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kResourceExhausted);
#endif
}

TEST_F(CoreFileIo, RegularFileLargerThanItsStatSizeIsReadWhole) {
#ifdef _WIN32
  GTEST_SKIP() << "no /proc files (size 0, content) on Windows";
#else
  // /proc files report size 0 but have content: the read must not stop at the stat size.
  const Result<Bytes> result = read("/proc/self/status");
  if (!result && result.error().code() == ErrorCode::kNotFound) GTEST_SKIP() << "no /proc";
  ASSERT_TRUE(result) << result.error().what();
  EXPECT_EQ(std::string(result->begin(), result->end()).rfind("Name:", 0), 0u);
  for (const std::size_t cap : {std::size_t{10}, std::size_t{0}}) {
    const Result<Bytes> capped = read("/proc/self/status", cap);
    ASSERT_FALSE(capped);
    EXPECT_EQ(capped.error().code(), ErrorCode::kResourceExhausted);
  }
#endif
}

TEST_F(CoreFileIo, DeviceReadErrorIsDataLoss) {
#ifdef _WIN32
  GTEST_SKIP() << "no /proc/self/mem to fail a read with EIO on Windows";
#else
  // Reading /proc/self/mem at offset 0 (unmapped) fails with EIO.
  const Result<Bytes> result = read("/proc/self/mem");
  if (!result && result.error().code() == ErrorCode::kNotFound) GTEST_SKIP() << "no /proc";
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kDataLoss);
  EXPECT_THAT(result.error().message(), HasSubstr("/proc/self/mem"));
#endif
}

TEST_F(CoreFileIo, RegularOnlyRefusesAFifoWithoutWaitingForAWriter) {
#ifdef _WIN32
  GTEST_SKIP() << "no FIFOs (mkfifo) on Windows";
#else
  // A plain open() of a FIFO with no writer blocks forever; this one must return at once.
  const std::string fifo = path("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const Result<Bytes> result = read(fifo, 1024, true);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(result.error().message(), "'" + fifo + "' is not a regular file");
#endif
}

TEST_F(CoreFileIo, RegularOnlyRefusesDevicesAndReadsFiles) {
#ifdef _WIN32
  const Result<Bytes> device = read("NUL", 1024, true);
#else
  const Result<Bytes> device = read("/dev/zero", 1024, true);
#endif
  ASSERT_FALSE(device);
  EXPECT_EQ(device.error().code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(write(path("f"), Bytes{4, 5}));
  EXPECT_EQ(read(path("f"), 2, true).value(), (Bytes{4, 5}));
  EXPECT_EQ(read(path("f"), 1, true).error().code(), ErrorCode::kResourceExhausted);
}

// ---- the temporary's name (shared by the POSIX and Win32 files) ----------------------------

TEST(CoreFileIoTemporary, HiddenBesideTheTargetUniquePerProcessAndCall) {
  EXPECT_EQ(file_io::temporary_path("out/x.png", "/", 42, 7), "out/.x.png.tmp-42-7");
  EXPECT_EQ(file_io::temporary_path("x.png", "/", 42, 7), ".x.png.tmp-42-7");
  EXPECT_EQ(file_io::temporary_path("/a/b/", "/", 1, 2), "/a/b/..tmp-1-2");
  const unsigned long long first = file_io::next_temporary_serial();
  EXPECT_NE(file_io::next_temporary_serial(), first);
}

TEST(CoreFileIoTemporary, WindowsSeparatorsEndTheDirectoryToo) {
  EXPECT_EQ(file_io::temporary_path("C:\\out\\x.png", "/\\", 42, 7), "C:\\out\\.x.png.tmp-42-7");
  EXPECT_EQ(file_io::temporary_path("C:\\out/sub\\x.png", "/\\", 1, 0),
            "C:\\out/sub\\.x.png.tmp-1-0");
  // On POSIX a backslash is part of the name.
  EXPECT_EQ(file_io::temporary_path("out/a\\b", "/", 1, 0), "out/.a\\b.tmp-1-0");
}

TEST(CoreFileIoTemporary, LongNamesAreCutSoTheTemporaryFits) {
  const std::string name(300, 'n');
  EXPECT_EQ(file_io::temporary_path("d/" + name, "/", 1, 0),
            "d/." + std::string(128, 'n') + ".tmp-1-0");
  // 127 bytes and then "é" (2 bytes): cut before it, never inside.
  EXPECT_EQ(file_io::temporary_path(std::string(127, 'n') + "\xC3\xA9xyz", "/", 1, 0),
            "." + std::string(127, 'n') + ".tmp-1-0");
  EXPECT_EQ(file_io::temporary_path(std::string(126, 'n') + "\xC3\xA9xyz", "/", 1, 0),
            "." + std::string(126, 'n') + "\xC3\xA9.tmp-1-0");
}

// ---- the errno mapping ---------------------------------------------------------------------

TEST(CoreFileIoErrno, OneCodePerCause) {
  const std::pair<int, ErrorCode> expected[] = {
      {ENOENT, ErrorCode::kNotFound},
      {ENOTDIR, ErrorCode::kNotFound},
      {EACCES, ErrorCode::kPermissionDenied},
      {EPERM, ErrorCode::kPermissionDenied},
      {EROFS, ErrorCode::kPermissionDenied},
      {ENOSPC, ErrorCode::kResourceExhausted},
#ifdef EDQUOT  // not in every C library (mingw-w64 has none)
      {EDQUOT, ErrorCode::kResourceExhausted},
#endif
      {EFBIG, ErrorCode::kResourceExhausted},
      {ENOMEM, ErrorCode::kResourceExhausted},
      {EMFILE, ErrorCode::kResourceExhausted},
      {ENFILE, ErrorCode::kResourceExhausted},
      {EIO, ErrorCode::kDataLoss},
      {EISDIR, ErrorCode::kInvalidArgument},
      {ENAMETOOLONG, ErrorCode::kInvalidArgument},
      {ELOOP, ErrorCode::kInvalidArgument},
  };
  for (const auto& [error, code] : expected) {
    EXPECT_EQ(error_code_for_errno(error), code) << std::generic_category().message(error);
  }
}

TEST(CoreFileIoErrno, MessageNamesActionFileAndCause) {
  const Error error = errno_error(ENOSPC, "write", "out/x.png");
  EXPECT_EQ(error.code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(error.message(), "cannot write 'out/x.png': No space left on device");
}

}  // namespace
}  // namespace rvae::detail
