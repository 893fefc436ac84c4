// The bash completion and man page agree with --help, and `cmake --install` puts them, the
// binary and the MP4 module where they are found: the installed rvae serve still writes MP4s.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "cli_support.hpp"

namespace rvae::cli_test {
namespace {

using ::testing::HasSubstr;

std::string file_text(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// Subcommand names from `rvae --help`'s "commands:" list.
std::vector<std::string> subcommands() {
  const std::string help = run({kRvae, "--help"}).out;
  std::vector<std::string> names;
  static const std::regex kLine(R"(\n  ([a-z][a-z-]+)  )");
  for (auto it = std::sregex_iterator(help.begin(), help.end(), kLine);
       it != std::sregex_iterator(); ++it) {
    names.push_back((*it)[1]);
  }
  return names;
}

std::set<std::string> long_flags(const std::string& text) {
  std::set<std::string> flags;
  static const std::regex kFlag(R"(--[a-z][a-z0-9-]*)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kFlag);
       it != std::sregex_iterator(); ++it) {
    flags.insert(it->str());
  }
  return flags;
}

TEST(CliDocsTest, CompletionAndManPageKnowEveryCommandAndFlag) {
  const std::string completion = file_text(RVAE_SOURCE_DIR "/tools/rvae/completion/rvae.bash");
  // The man page escapes '-' as '\-'.
  std::string man = file_text(RVAE_SOURCE_DIR "/tools/rvae/rvae.1");
  man = std::regex_replace(man, std::regex(R"(\\-)"), "-");
  ASSERT_FALSE(completion.empty());
  ASSERT_FALSE(man.empty());
  const std::vector<std::string> commands = subcommands();
  ASSERT_GE(commands.size(), 7u);
  for (const std::string& command : commands) {
    EXPECT_THAT(completion, HasSubstr(command + ")")) << command << " has no completion";
    EXPECT_THAT(man, HasSubstr(".B " + command)) << command << " is not in the man page";
    // This command's line in _rvae_flags.
    const std::size_t at = completion.find("    " + command + ")");
    ASSERT_NE(at, std::string::npos) << command;
    const std::set<std::string> completed =
        long_flags(completion.substr(at, completion.find(";;", at) - at));
    for (const std::string& flag : long_flags(run({kRvae, command, "--help"}).out)) {
      EXPECT_EQ(completed.count(flag), 1u) << command << " " << flag << " not completed";
      EXPECT_THAT(man, HasSubstr(flag)) << command << " " << flag << " not in the man page";
    }
  }
}

TEST(CliInstallTest, InstalledToolFindsItsModuleAndDocs) {
#if RVAE_INSTALL_RULES
  TempDir prefix;
  const Outcome installed =
      run({RVAE_CMAKE_COMMAND, "--install", RVAE_BUILD_DIR, "--prefix", prefix.path()}, {},
          kNoInput, std::chrono::seconds(120));
#ifdef _WIN32
  if (installed.exit_code == -1) {
    GTEST_SKIP() << "cannot start " RVAE_CMAKE_COMMAND
                    ": a cross build's cmake is the build machine's program, not one Windows "
                    "(wine) can run";
  }
#endif
  ASSERT_EQ(installed.exit_code, 0) << installed.out << installed.err;
  EXPECT_TRUE(exists(prefix / "share/bash-completion/completions/rvae"));
  EXPECT_TRUE(exists(prefix / "share/man/man1/rvae.1"));
#ifdef _WIN32
  const std::string rvae = prefix / "bin/rvae.exe";
#else
  const std::string rvae = prefix / "bin/rvae";
#endif
  ASSERT_TRUE(exists(rvae));
  EXPECT_EQ(run({rvae, "--version"}).exit_code, 0);
#if RVAE_HAVE_FFMPEG
  // The installed binary looks for the module relative to itself before the build tree, so it
  // must map the installed copy.
  ASSERT_FALSE(list_dir(prefix / "lib/rvae").empty() && list_dir(prefix / "lib64/rvae").empty());
  std::unique_ptr<Child> serve =
      std::make_unique<Child>(std::vector<std::string>{rvae, "serve", "--port", "0"});
  const std::string line = serve->read_stdout_line();
  ASSERT_EQ(line.rfind("serving ", 0), 0u) << line;
  const std::string url = line.substr(8, line.size() - 9);
  TempDir dir;
  const Tensor latents = Tensor::zeros({1, 16, 2, 2, 2}, DType::kFloat32).value();
  ASSERT_TRUE(write_npy(dir / "v.npy", latents.view()));
  const Outcome decoded = run({rvae, "decode", "--model", "hunyuan-video", "--endpoint",
                               url + "hunyuan-video/decode/", dir / "v.npy", "-o", dir / "v.mp4"});
  EXPECT_EQ(decoded.exit_code, 0) << decoded.err;
  std::ifstream maps("/proc/" + std::to_string(serve->pid()) + "/maps");
  std::stringstream mapped;
  mapped << maps.rdbuf();
  EXPECT_THAT(mapped.str(), HasSubstr(prefix.path() + "/"));
  EXPECT_THAT(mapped.str(), ::testing::ContainsRegex(prefix.path() + "/lib[^ ]*/rvae/librvae_mp4"));
  serve->signal(SIGTERM);
  (void)serve->wait(std::chrono::seconds(10));
#endif
#else
  GTEST_SKIP() << "built without install rules";
#endif
}

}  // namespace
}  // namespace rvae::cli_test
