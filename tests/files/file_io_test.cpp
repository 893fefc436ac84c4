#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rvae/latent_file.hpp"

namespace rvae {
namespace {

using ::testing::HasSubstr;

// A fresh directory per test, removed with its contents afterwards.
class FileIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "rvae_file_io_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    for (const std::string& name : entries()) {
      const std::string path = dir_ + "/" + name;
      struct stat st {};
      if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        ::rmdir(path.c_str());
      } else {
        ::unlink(path.c_str());
      }
    }
    ::rmdir(dir_.c_str());
  }

  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    DIR* dir = ::opendir(dir_.c_str());
    if (dir == nullptr) return names;
    while (const dirent* entry = ::readdir(dir)) {
      const std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(dir);
    return names;
  }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  std::string dir_;
};

Bytes all_byte_values() {
  Bytes bytes;
  for (int i = 0; i < 1000; ++i)
    bytes.push_back(static_cast<std::uint8_t>(i * 7 % 256));
  return bytes;
}

TEST_F(FileIoTest, WriteThenReadRoundTripsEveryByteValue) {
  const Bytes data = all_byte_values();
  ASSERT_TRUE(write_file(path("a.bin"), data.data(), data.size()));
  auto read = read_file(path("a.bin"));
  ASSERT_TRUE(read) << read.error().what();
  EXPECT_EQ(*read, data);
  // The temporary was renamed, not left behind.
  EXPECT_EQ(entries(), std::vector<std::string>{"a.bin"});
}

TEST_F(FileIoTest, WriteReplacesAnExistingFile) {
  const Bytes first(100, 0xAA);
  const Bytes second = {1, 2, 3};
  ASSERT_TRUE(write_file(path("f"), first.data(), first.size()));
  ASSERT_TRUE(write_file(path("f"), second.data(), second.size()));
  auto read = read_file(path("f"));
  ASSERT_TRUE(read);
  EXPECT_EQ(*read, second);
}

TEST_F(FileIoTest, EmptyFileRoundTrips) {
  ASSERT_TRUE(write_file(path("empty"), nullptr, 0));
  auto read = read_file(path("empty"));
  ASSERT_TRUE(read);
  EXPECT_TRUE(read->empty());
}

TEST_F(FileIoTest, WriteRejectsEmptyPathAndNullData) {
  const Bytes data = {1};
  auto empty_path = write_file("", data.data(), data.size());
  ASSERT_FALSE(empty_path);
  EXPECT_EQ(empty_path.error().code(), ErrorCode::kInvalidArgument);
  auto null_data = write_file(path("x"), nullptr, 5);
  ASSERT_FALSE(null_data);
  EXPECT_EQ(null_data.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(entries().empty());
}

TEST_F(FileIoTest, WriteIntoMissingDirectoryIsNotFoundAndNamesPathAndCause) {
  const std::string target = path("no/such/dir/file.bin");
  const Bytes data = {1, 2};
  auto result = write_file(target, data.data(), data.size());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(result.error().message(), HasSubstr(target));
  EXPECT_THAT(result.error().message(), HasSubstr("No such file or directory"));
}

TEST_F(FileIoTest, FailedRenameRemovesTheTemporary) {
  // The temporary is created next to the target, but a directory cannot be replaced by a file.
  ASSERT_EQ(::mkdir(path("target").c_str(), 0755), 0);
  const Bytes data = {1, 2, 3};
  auto result = write_file(path("target"), data.data(), data.size());
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message(), HasSubstr(path("target")));
  EXPECT_THAT(result.error().message(), HasSubstr("Is a directory"));
  EXPECT_EQ(entries(), std::vector<std::string>{"target"});
}

TEST_F(FileIoTest, FailedWriteIsResourceExhaustedAndRemovesTheTemporary) {
  // A file size limit makes write() fail with EFBIG part-way, like a full disk would.
  struct rlimit saved {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = saved;
  small.rlim_cur = 1000;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const Bytes data(5000, 0x55);
  auto result = write_file(path("big"), data.data(), data.size());
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_THAT(result.error().message(), HasSubstr(path("big")));
  EXPECT_TRUE(entries().empty());
}

TEST_F(FileIoTest, WriteBelowARegularFileIsNotFound) {
  const Bytes data = {1};
  ASSERT_TRUE(write_file(path("plain"), data.data(), data.size()));
  auto result = write_file(path("plain/child"), data.data(), data.size());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(result.error().message(), HasSubstr("Not a directory"));
}

TEST_F(FileIoTest, UnusablePathIsInvalidArgument) {
  const Bytes data = {1};
  auto result = write_file(path(std::string(300, 'n')), data.data(), data.size());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(result.error().message(), HasSubstr("File name too long"));
  EXPECT_TRUE(entries().empty());
}

TEST_F(FileIoTest, WriteIntoReadOnlyDirectoryFails) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  ASSERT_EQ(::mkdir(path("ro").c_str(), 0555), 0);
  const Bytes data = {1};
  auto result = write_file(path("ro/file"), data.data(), data.size());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(result.error().message(), HasSubstr("Permission denied"));
}

TEST_F(FileIoTest, ReadMissingFileIsNotFoundNamingThePath) {
  auto result = read_file(path("missing.bin"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(result.error().message(), HasSubstr(path("missing.bin")));
}

TEST_F(FileIoTest, ReadDirectoryIsInvalidArgument) {
  auto result = read_file(dir_);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(result.error().message(), HasSubstr("directory"));
}

TEST_F(FileIoTest, ReadHonoursTheSizeCap) {
  const Bytes data(100, 7);
  ASSERT_TRUE(write_file(path("f"), data.data(), data.size()));
  auto at_cap = read_file(path("f"), 100);
  ASSERT_TRUE(at_cap);
  EXPECT_EQ(at_cap->size(), 100u);
  auto over = read_file(path("f"), 99);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_THAT(over.error().message(), HasSubstr("99"));
}

TEST_F(FileIoTest, ReadsAPipeUnderTheCapAndRejectsOneOver) {
  const std::string text = "streamed bytes";
  for (const std::size_t cap : {text.size(), text.size() - 1}) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    ASSERT_EQ(::write(fds[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fds[1]);
    auto result = read_file("/dev/fd/" + std::to_string(fds[0]), cap);
    ::close(fds[0]);
    if (cap == text.size()) {
      ASSERT_TRUE(result) << result.error().what();
      EXPECT_EQ(std::string(result->begin(), result->end()), text);
    } else {
      ASSERT_FALSE(result);
      EXPECT_EQ(result.error().code(), ErrorCode::kResourceExhausted);
    }
  }
}

TEST_F(FileIoTest, EndlessDeviceStopsAtTheCap) {
  auto result = read_file("/dev/zero", 200000);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kResourceExhausted);
}

TEST_F(FileIoTest, RegularFileLargerThanItsStatSizeIsReadWhole) {
  // /proc files report size 0 but have content: the read must not stop at the stat size.
  auto result = read_file("/proc/self/status");
  if (!result && result.error().code() == ErrorCode::kNotFound) GTEST_SKIP() << "no /proc";
  ASSERT_TRUE(result) << result.error().what();
  const std::string text(result->begin(), result->end());
  EXPECT_EQ(text.rfind("Name:", 0), 0u);
  auto capped = read_file("/proc/self/status", 10);
  ASSERT_FALSE(capped);
  EXPECT_EQ(capped.error().code(), ErrorCode::kResourceExhausted);
  auto zero_cap = read_file("/proc/self/status", 0);
  ASSERT_FALSE(zero_cap);
  EXPECT_EQ(zero_cap.error().code(), ErrorCode::kResourceExhausted);
}

TEST_F(FileIoTest, ReadErrorIsDataLoss) {
  // Reading /proc/self/mem at offset 0 (unmapped) fails with EIO.
  auto result = read_file("/proc/self/mem");
  if (!result && result.error().code() == ErrorCode::kNotFound) GTEST_SKIP() << "no /proc";
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kDataLoss);
  EXPECT_THAT(result.error().message(), HasSubstr("/proc/self/mem"));
}

}  // namespace
}  // namespace rvae
