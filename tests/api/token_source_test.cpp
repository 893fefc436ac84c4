#include "api/token_source.hpp"

#ifndef _WIN32
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#endif

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace rvae::detail {
namespace {

namespace fs = std::filesystem;
using testing_support::TempDir;

// The library takes paths as UTF-8 (on Windows too, where string() is the ANSI code page).
std::string utf8(const fs::path& path) {
  return TempDir::utf8(path);
}

// The variable naming the user's home under this system's rules (HOME is not read on Windows).
#ifdef _WIN32
constexpr const char* kHome = "USERPROFILE";
#else
constexpr const char* kHome = "HOME";
#endif

// A fresh directory per test, removed afterwards; the environment is a plain map.
class TokenSource : public ::testing::Test {
 protected:
  void TearDown() override {
    std::error_code ignored;
    for (const std::string& locked : locked_) {
      fs::permissions(locked, fs::perms::owner_all, fs::perm_options::add, ignored);
    }
  }

#ifndef _WIN32
  // chmod 0, undone in TearDown so the directory can be removed.
  void lock(const std::string& path) {
    locked_.push_back(path);
    ASSERT_EQ(::chmod(path.c_str(), 0), 0) << path;
  }
#endif

  // Writes `contents` to dir_/relative (UTF-8, creating folders) and returns the full path.
  std::string write(const std::string& relative, std::string_view contents) {
    const fs::path path = dir_ / fs::u8path(relative);
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    EXPECT_TRUE(out.good()) << path;
    return utf8(path);
  }

  std::string path(const std::string& relative) const {
    return utf8(dir_ / fs::u8path(relative));
  }

  std::string resolve(const std::string& explicit_token = "") const {
    const std::map<std::string, std::string> vars = env_;
    return resolve_token(explicit_token, [vars](const char* name) -> std::optional<std::string> {
      const auto it = vars.find(name);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    });
  }

  const testing_support::TempDir temp_{"rvae_token"};
  const fs::path dir_ = temp_.fs_path();
  std::map<std::string, std::string> env_;
  std::vector<std::string> locked_;
};

// ---------------------------------------------------------------------------------------------
TEST(IsValidToken, PrintableAsciiWithoutSpaces) {
  EXPECT_TRUE(is_valid_token("hf_AbCdEf0123456789"));
  EXPECT_TRUE(is_valid_token("!"));
  EXPECT_TRUE(is_valid_token("~"));
  EXPECT_TRUE(is_valid_token("a-b_c.d/e+f=g"));
}

TEST(IsValidToken, RejectsEmptySpacesControlAndNonAscii) {
  for (std::string_view bad :
       {std::string_view(""), std::string_view(" "), std::string_view("hf_a hf_b"),
        std::string_view("hf_a\tb"), std::string_view("hf_a\r"), std::string_view("\nhf_a"),
        std::string_view("hf_a\r\nX-Injected: 1"), std::string_view("hf_\x7f"),
        std::string_view("hf_\x01"), std::string_view("hf_\x80"), std::string_view("hf_\xc3\xa9"),
        std::string_view("hf_a\0b", 6)}) {
    EXPECT_FALSE(is_valid_token(bad)) << '"' << bad << '"';
  }
}

// ---------------------------------------------------------------------------------------------
TEST_F(TokenSource, ExplicitTokenWinsAndIsReturnedUnchanged) {
  env_["HF_TOKEN"] = "hf_env";
  env_["HF_TOKEN_PATH"] = write("token", "hf_file");
  EXPECT_EQ(resolve("hf_explicit"), "hf_explicit");
  // Not trimmed or replaced: the caller validates it and reports a bad one.
  EXPECT_EQ(resolve(" hf bad\n"), " hf bad\n");
}

TEST_F(TokenSource, HfTokenIsTrimmedAndBeatsFiles) {
  env_["HF_TOKEN"] = " \thf_env \r\n";
  env_["HF_TOKEN_PATH"] = write("token", "hf_file");
  EXPECT_EQ(resolve(), "hf_env");
}

TEST_F(TokenSource, LegacyVariableIsUsedOnlyWithoutHfToken) {
  env_["HUGGING_FACE_HUB_TOKEN"] = "hf_legacy";
  env_["HF_TOKEN_PATH"] = write("token", "hf_file");
  EXPECT_EQ(resolve(), "hf_legacy");
  env_["HF_TOKEN"] = "hf_env";
  EXPECT_EQ(resolve(), "hf_env");
}

TEST_F(TokenSource, EmptyOrBlankHfTokenFallsThroughToTheFile) {
  env_["HF_TOKEN_PATH"] = write("token", "hf_file");
  env_["HF_TOKEN"] = "";
  EXPECT_EQ(resolve(), "hf_file");
  env_["HF_TOKEN"] = " \n\t ";
  EXPECT_EQ(resolve(), "hf_file");
}

TEST_F(TokenSource, HfTokenWithInjectedHeaderIsSkipped) {
  env_["HF_TOKEN"] = "hf_env\r\nX-Injected: yes";
  EXPECT_EQ(resolve(), "");
  env_["HF_TOKEN_PATH"] = write("token", "hf_file");
  EXPECT_EQ(resolve(), "hf_file");
}

TEST_F(TokenSource, HfTokenPathBeatsHfHome) {
  env_["HF_TOKEN_PATH"] = write("custom/my_token", "hf_custom");
  env_["HF_HOME"] = utf8(dir_ / "hfhome");
  write("hfhome/token", "hf_home");
  EXPECT_EQ(resolve(), "hf_custom");
}

TEST_F(TokenSource, MissingHfTokenPathFileDoesNotFallBack) {
  // huggingface_hub reads exactly one file: HF_TOKEN_PATH replaces the HF_HOME default.
  env_["HF_TOKEN_PATH"] = path("missing/token");
  env_["HF_HOME"] = utf8(dir_ / "hfhome");
  write("hfhome/token", "hf_home");
  EXPECT_EQ(resolve(), "");
}

TEST_F(TokenSource, HfHomeTokenBeatsCacheLocations) {
  env_["HF_HOME"] = utf8(dir_ / "hfhome");
  write("hfhome/token", "hf_home");
  env_["XDG_CACHE_HOME"] = utf8(dir_ / "xdg");
  write("xdg/huggingface/token", "hf_xdg");
  env_[kHome] = utf8(dir_ / "home");
  write("home/.cache/huggingface/token", "hf_user");
  EXPECT_EQ(resolve(), "hf_home");
  env_.erase("HF_HOME");
  EXPECT_EQ(resolve(), "hf_xdg");
  env_.erase("XDG_CACHE_HOME");
  EXPECT_EQ(resolve(), "hf_user");
}

TEST_F(TokenSource, EmptyVariablesCountAsUnset) {
  env_["HF_TOKEN_PATH"] = "";
  env_["HF_HOME"] = "";
  env_["XDG_CACHE_HOME"] = "";
  env_[kHome] = utf8(dir_ / "home");
  write("home/.cache/huggingface/token", "hf_user");
  EXPECT_EQ(resolve(), "hf_user");
}

TEST_F(TokenSource, TildeMeansHome) {
  env_[kHome] = utf8(dir_);
  write("tokens/t", "hf_tilde");
  env_["HF_TOKEN_PATH"] = "~/tokens/t";
  EXPECT_EQ(resolve(), "hf_tilde");
  env_.erase("HF_TOKEN_PATH");
  write("hub/token", "hf_tilde_home");
  env_["HF_HOME"] = "~/hub";
  EXPECT_EQ(resolve(), "hf_tilde_home");
}

TEST_F(TokenSource, NothingFoundGivesEmpty) {
  EXPECT_EQ(resolve(), "");  // no variables at all
  env_[kHome] = utf8(dir_ / "home");
  EXPECT_EQ(resolve(), "");                       // a home without a token file
  EXPECT_EQ(resolve_token("", EnvLookup()), "");  // no environment function
}

TEST_F(TokenSource, PathsAreUtf8) {
  // "jeton_é/ключ": outside any one ANSI code page, so only a UTF-8-aware open finds it.
  env_["HF_TOKEN_PATH"] = write("jeton_\xc3\xa9/\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87", "hf_utf8");
  EXPECT_EQ(resolve(), "hf_utf8");
  env_.erase("HF_TOKEN_PATH");
  env_["HF_HOME"] = path("hf_\xc3\xa9");
  write("hf_\xc3\xa9/token", "hf_utf8_home");
  EXPECT_EQ(resolve(), "hf_utf8_home");
}

TEST_F(TokenSource, FileContentsAreTrimmed) {
  env_["HF_TOKEN_PATH"] = write("token", "  \thf_file\r\n\n");
  EXPECT_EQ(resolve(), "hf_file");
}

TEST_F(TokenSource, EmptyOrBlankFileGivesEmpty) {
  env_["HF_TOKEN_PATH"] = write("empty", "");
  EXPECT_EQ(resolve(), "");
  env_["HF_TOKEN_PATH"] = write("blank", " \r\n");
  EXPECT_EQ(resolve(), "");
}

TEST_F(TokenSource, FileWithMoreThanOneTokenOrControlCharactersIsIgnored) {
  for (std::string_view contents :
       {std::string_view("hf_a\nhf_b\n"), std::string_view("hf_a\r\nX-Injected: yes"),
        std::string_view("hf_a hf_b"), std::string_view("hf_\x1b[31m"),
        std::string_view("hf_a\0b", 6), std::string_view("hf_\xc3\xa9")}) {
    env_["HF_TOKEN_PATH"] = write("token", contents);
    EXPECT_EQ(resolve(), "") << '"' << contents << '"';
  }
}

TEST_F(TokenSource, FileSizeLimit) {
  // Exactly the limit is still read (a 65536-character token is odd but valid).
  env_["HF_TOKEN_PATH"] = write("at_limit", std::string(kMaxTokenFileBytes, 'a'));
  EXPECT_EQ(resolve(), std::string(kMaxTokenFileBytes, 'a'));
  // One byte more is not a token file, even if the extra byte is trailing whitespace.
  env_["HF_TOKEN_PATH"] = write("over_limit", std::string(kMaxTokenFileBytes, 'a') + "\n");
  EXPECT_EQ(resolve(), "");
}

TEST_F(TokenSource, NonRegularFilesAreIgnored) {
  fs::create_directories(dir_ / "a_directory");
  env_["HF_TOKEN_PATH"] = path("a_directory");
  EXPECT_EQ(resolve(), "");
#ifdef _WIN32
  GTEST_SKIP() << "no FIFOs (mkfifo) on Windows; the directory was checked";
#else
  // A FIFO with no writer would block a plain open()/read(); it must be skipped at once.
  const std::string fifo = path("a_fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  env_["HF_TOKEN_PATH"] = fifo;
  EXPECT_EQ(resolve(), "");
#endif
}

TEST_F(TokenSource, UnreadableFileIsIgnored) {
#ifdef _WIN32
  GTEST_SKIP() << "Windows has no mode bits to make a file or folder unreadable (chmod 0)";
#else
  if (::geteuid() == 0) GTEST_SKIP() << "root reads files regardless of their mode";
  const std::string file = write("token", "hf_secret");
  lock(file);
  env_["HF_TOKEN_PATH"] = file;
  EXPECT_EQ(resolve(), "");
#endif
}

TEST_F(TokenSource, UnreadableDirectoryIsIgnored) {
#ifdef _WIN32
  GTEST_SKIP() << "Windows has no mode bits to make a file or folder unreadable (chmod 0)";
#else
  if (::geteuid() == 0) GTEST_SKIP() << "root reads files regardless of their mode";
  env_["HF_HOME"] = utf8(dir_ / "hfhome");
  write("hfhome/token", "hf_home");
  lock(path("hfhome"));
  EXPECT_EQ(resolve(), "");
#endif
}

// ---------------------------------------------------------------------------------------------
// The token file's path, for both systems' rules: only strings, so both run everywhere.

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::optional<std::string> posix_path(std::map<std::string, std::string> vars) {
  return token_file_path(env_of(std::move(vars)), PathRules::kPosix);
}

std::optional<std::string> windows_path(std::map<std::string, std::string> vars) {
  return token_file_path(env_of(std::move(vars)), PathRules::kWindows);
}

TEST(ProcessEnv, ValuesAreUtf8) {
  // "é/ключ" (outside any one ANSI code page): a home folder's name read from the environment.
  const char* name = "RVAE_TEST_PROCESS_ENV_UTF8";
#ifdef _WIN32
  ASSERT_EQ(::_wputenv_s(L"RVAE_TEST_PROCESS_ENV_UTF8", L"\u00e9/\u043a\u043b\u044e\u0447"), 0);
#else
  ASSERT_EQ(::setenv(name, "\xc3\xa9/\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87", 1), 0);
#endif
  const std::optional<std::string> value = process_env()(name);
#ifdef _WIN32
  ::_wputenv_s(L"RVAE_TEST_PROCESS_ENV_UTF8", L"");
#else
  ::unsetenv(name);
#endif
  EXPECT_EQ(value, "\xc3\xa9/\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87");
  EXPECT_EQ(process_env()(name), std::nullopt);
}

TEST(TokenFilePath, NativeRulesAreThisSystems) {
#ifdef _WIN32
  EXPECT_EQ(kNativePathRules, PathRules::kWindows);
#else
  EXPECT_EQ(kNativePathRules, PathRules::kPosix);
#endif
}

TEST(TokenFilePath, PosixOrderAndSeparators) {
  const std::map<std::string, std::string> all = {{"HF_TOKEN_PATH", "/t/token.txt"},
                                                  {"HF_HOME", "/hf"},
                                                  {"XDG_CACHE_HOME", "/xdg"},
                                                  {"HOME", "/home/ann"},
                                                  {"USERPROFILE", "C:\\Users\\ann"}};
  EXPECT_EQ(posix_path(all), "/t/token.txt");
  auto vars = all;
  vars.erase("HF_TOKEN_PATH");
  EXPECT_EQ(posix_path(vars), "/hf/token");
  vars.erase("HF_HOME");
  EXPECT_EQ(posix_path(vars), "/xdg/huggingface/token");
  vars.erase("XDG_CACHE_HOME");
  EXPECT_EQ(posix_path(vars), "/home/ann/.cache/huggingface/token");
  vars.erase("HOME");  // USERPROFILE means nothing on POSIX
  EXPECT_EQ(posix_path(vars), std::nullopt);
  EXPECT_EQ(posix_path({{"HF_HOME", "/hf/"}}), "/hf/token");
}

TEST(TokenFilePath, PosixTildeIsHomeBeforeASlashOnly) {
  EXPECT_EQ(posix_path({{"HOME", "/home/ann"}, {"HF_HOME", "~/hub"}}), "/home/ann/hub/token");
  EXPECT_EQ(posix_path({{"HOME", "/home/ann"}, {"HF_TOKEN_PATH", "~"}}), "/home/ann");
  EXPECT_EQ(posix_path({{"HOME", "/home/ann"}, {"HF_HOME", "~\\hub"}}), "~\\hub/token");
  EXPECT_EQ(posix_path({{"HOME", "/home/ann"}, {"HF_HOME", "~bob/hub"}}), "~bob/hub/token");
  EXPECT_EQ(posix_path({{"HF_HOME", "~/hub"}}), "~/hub/token");  // no HOME: left as is
}

TEST(TokenFilePath, WindowsDefaultIsUnderUserProfile) {
  EXPECT_EQ(windows_path({{"USERPROFILE", "C:\\Users\\ann"}, {"HOME", "/home/ann"}}),
            "C:\\Users\\ann\\.cache\\huggingface\\token");
  // Without USERPROFILE, HOMEDRIVE and HOMEPATH together, as Python's expanduser; HOME never.
  EXPECT_EQ(windows_path({{"HOMEDRIVE", "D:"}, {"HOMEPATH", "\\Users\\ann"}}),
            "D:\\Users\\ann\\.cache\\huggingface\\token");
  EXPECT_EQ(windows_path({{"HOMEDRIVE", "D:"}, {"HOME", "C:\\home"}}), std::nullopt);
  EXPECT_EQ(windows_path({}), std::nullopt);
}

TEST(TokenFilePath, WindowsHonoursTheSameVariablesInTheSameOrder) {
  std::map<std::string, std::string> vars = {{"HF_TOKEN_PATH", "E:\\t\\token.txt"},
                                             {"HF_HOME", "D:\\hf"},
                                             {"XDG_CACHE_HOME", "F:\\xdg"},
                                             {"USERPROFILE", "C:\\Users\\ann"}};
  EXPECT_EQ(windows_path(vars), "E:\\t\\token.txt");
  vars.erase("HF_TOKEN_PATH");
  EXPECT_EQ(windows_path(vars), "D:\\hf\\token");
  vars.erase("HF_HOME");
  EXPECT_EQ(windows_path(vars), "F:\\xdg\\huggingface\\token");
  EXPECT_EQ(windows_path({{"HF_HOME", "D:\\hf\\"}}), "D:\\hf\\token");
  EXPECT_EQ(windows_path({{"HF_HOME", "D:/hf/"}}), "D:/hf/token");
  EXPECT_EQ(windows_path({{"HF_HOME", ""}, {"USERPROFILE", "C:\\u"}}),
            "C:\\u\\.cache\\huggingface\\token");
}

TEST(TokenFilePath, WindowsTildeIsTheProfileBeforeEitherSlash) {
  const std::string profile = "C:\\Users\\ann";
  EXPECT_EQ(windows_path({{"USERPROFILE", profile}, {"HF_HOME", "~\\hub"}}),
            "C:\\Users\\ann\\hub\\token");
  EXPECT_EQ(windows_path({{"USERPROFILE", profile}, {"HF_HOME", "~/hub"}}),
            "C:\\Users\\ann/hub\\token");
  EXPECT_EQ(windows_path({{"USERPROFILE", profile}, {"HF_TOKEN_PATH", "~bob\\t"}}), "~bob\\t");
}

// ---------------------------------------------------------------------------------------------
TEST(ProcessEnv, ReadsTheRealEnvironmentWithoutChangingIt) {
  const EnvLookup env = process_env();
  const char* path = std::getenv("PATH");
  ASSERT_NE(path, nullptr);
  EXPECT_EQ(env("PATH"), std::optional<std::string>(path));
  EXPECT_EQ(env("RVAE_TEST_SURELY_UNSET_VARIABLE_7f3a"), std::nullopt);
}

}  // namespace
}  // namespace rvae::detail
