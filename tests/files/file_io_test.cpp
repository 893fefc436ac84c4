// The public read_file and write_file: the contract latent_file.hpp states. The routine behind
// them, and every error it can return, is tested in tests/core/file_io_test.cpp.
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "files/alloc_tracker.hpp"
#include "rvae/latent_file.hpp"
#include "support/temp_dir.hpp"

namespace rvae {
namespace {

using ::testing::HasSubstr;

// A fresh directory per test, removed with its contents afterwards.
class FileIoTest : public ::testing::Test {
 protected:
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const std::filesystem::directory_entry& entry :
         std::filesystem::directory_iterator(temp_.fs_path())) {
      names.push_back(testing_support::TempDir::utf8(entry.path().filename()));
    }
    return names;
  }

  std::string path(const std::string& name) const { return temp_.path(name); }

  const testing_support::TempDir temp_{"rvae_file_io"};
  const std::string dir_ = temp_.str();
};

Bytes all_byte_values() {
  Bytes bytes;
  for (int i = 0; i < 1000; ++i)
    bytes.push_back(static_cast<std::uint8_t>(i * 7 % 256));
  return bytes;
}

TEST(FileError, CodesAndWordsASystemErrorAsTheFileRoutinesDo) {
  const Error full = file_error(ENOSPC, "write", "out/t.npy");
  EXPECT_EQ(full.code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(full.message(), "cannot write 'out/t.npy': No space left on device");
  EXPECT_EQ(file_error(ENOMEM, "write", "x").code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(file_error(ENOENT, "open", "x").code(), ErrorCode::kNotFound);
  EXPECT_EQ(file_error(EACCES, "open", "x").code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(file_error(EIO, "write", "x").code(), ErrorCode::kDataLoss);
  EXPECT_EQ(file_error(EISDIR, "open", "x").code(), ErrorCode::kInvalidArgument);
  // The same code as a real failure of write_file for the same cause.
  const Result<void> missing = write_file("/nonexistent-dir-for-rvae/f", nullptr, 0);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), file_error(ENOENT, "write", "x").code());
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
#ifndef _WIN32  // Windows words the cause in its own (localised) text
  EXPECT_THAT(result.error().message(), HasSubstr("No such file or directory"));
#endif
}

TEST_F(FileIoTest, FailedRenameRemovesTheTemporary) {
  // The temporary is created next to the target, but a directory cannot be replaced by a file.
  ASSERT_TRUE(std::filesystem::create_directory(std::filesystem::u8path(path("target"))));
  const Bytes data = {1, 2, 3};
  auto result = write_file(path("target"), data.data(), data.size());
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message(), HasSubstr(path("target")));
  EXPECT_THAT(result.error().message(), HasSubstr("Is a directory"));
  EXPECT_EQ(entries(), std::vector<std::string>{"target"});
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

TEST_F(FileIoTest, ReadingAFileHoldsItsSizeOnce) {
  // A file read whole must not be copied into a grown buffer on the way (that would hold twice
  // its size at once); a refused one must not be allocated at all.
  const Bytes data(4 << 20, 3);
  ASSERT_TRUE(write_file(path("f"), data.data(), data.size()));
  testing_support::reset_peak_heap();
  const Result<Bytes> read = read_file(path("f"));
  const std::size_t peak = testing_support::peak_heap_growth();
  ASSERT_TRUE(read);
  EXPECT_EQ(read->size(), data.size());
  EXPECT_LT(peak, data.size() + (64 << 10));
  testing_support::reset_peak_heap();
  EXPECT_FALSE(read_file(path("f"), data.size() - 1));
  EXPECT_LT(testing_support::peak_heap_growth(), std::size_t{64} << 10);
}

}  // namespace
}  // namespace rvae
