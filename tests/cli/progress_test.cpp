// The progress bar on a real terminal: a pseudo-terminal of 80 columns (forkpty), resized to
// 50 mid-batch. Every redraw must fit the width in force, carry rate and ETA, and be drawn in
// place (carriage returns, not one line per update).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#ifndef _WIN32
#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#endif

#include <thread>

#include "cli_support.hpp"

namespace rvae::cli_test {
namespace {

using ::testing::HasSubstr;

struct PtyRun {
  int exit_code = -1;
  bool timed_out = false;
  std::string output;          // Everything written to the terminal.
  std::size_t resized_at = 0;  // Offset in `output` when the terminal became 50 columns.
};

#ifdef _WIN32
// Windows has pseudo-consoles (ConPTY), not forkpty, and wine does not provide them: the tests
// that need a terminal skip there (RVAE_SKIP_WITHOUT_PTY), and this is never called.
#define RVAE_SKIP_WITHOUT_PTY() \
  GTEST_SKIP() << "needs a pseudo-terminal (forkpty); ConPTY on Windows is not tested here"
PtyRun run_on_pty(const std::vector<std::string>&, int, std::size_t, int) {
  return {};
}
#else
#define RVAE_SKIP_WITHOUT_PTY() static_cast<void>(0)
// Runs argv on a pseudo-terminal `columns` wide; once `resize_after` bytes have arrived, the
// terminal becomes `new_columns` wide. Killed after 60 s.
PtyRun run_on_pty(const std::vector<std::string>& argv, int columns, std::size_t resize_after,
                  int new_columns) {
  PtyRun run;
  winsize size{};
  size.ws_row = 24;
  size.ws_col = static_cast<unsigned short>(columns);
  int master = -1;
  const pid_t pid = ::forkpty(&master, nullptr, nullptr, &size);
  if (pid < 0) return run;
  if (pid == 0) {
    std::vector<char*> args;
    for (const std::string& arg : argv)
      args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool resized = false;
  char buffer[4096];
  for (;;) {
    if (std::chrono::steady_clock::now() > deadline) {
      run.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd fd{master, POLLIN, 0};
    if (::poll(&fd, 1, 100) <= 0) continue;
    const ssize_t n = ::read(master, buffer, sizeof(buffer));
    if (n <= 0) break;  // EIO once the child has closed the terminal.
    run.output.append(buffer, static_cast<std::size_t>(n));
    if (!resized && run.output.size() >= resize_after) {
      winsize smaller = size;
      smaller.ws_col = static_cast<unsigned short>(new_columns);
      ::ioctl(master, TIOCSWINSZ, &smaller);
      run.resized_at = run.output.size();
      resized = true;
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(master);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}
#endif

// The visible text of each redraw: pieces between \r and \n, without the erase-line sequence.
std::vector<std::string> segments(const std::string& text) {
  std::vector<std::string> pieces;
  std::string current;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 3, "\033[K") == 0) {
      i += 2;
      continue;
    }
    if (text[i] == '\r' || text[i] == '\n') {
      if (!current.empty()) pieces.push_back(current);
      current.clear();
      continue;
    }
    current += text[i];
  }
  if (!current.empty()) pieces.push_back(current);
  return pieces;
}

TEST(CliProgressTest, BarFitsAnEightyColumnTerminalAndFollowsItsWidth) {
  RVAE_SKIP_WITHOUT_PTY();
  Serve serve({"--latency-ms", "60"});
  ASSERT_FALSE(serve.url().empty());
  TempDir dir;
  make_dir(dir / "in");
  constexpr int kInputs = 24;
  for (int i = 0; i < kInputs; ++i) {
    // Long names: a bar that printed them, or grew with them, would overflow.
    write_small_latents(dir / ("in/a_rather_long_latent_file_name_" + std::to_string(i) + ".npy"));
  }
  const PtyRun run =
      run_on_pty({kRvae, "decode", "-q", "--model", "sd15", "--endpoint",
                  serve.url() + "sd15/decode/", "-j", "2", dir / "in", "-o", dir / "out"},
                 80, 0, 80);
  ASSERT_FALSE(run.timed_out);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output, "") << "--quiet must not draw a bar";

  const PtyRun bar =
      run_on_pty({kRvae, "decode", "--model", "sd15", "--endpoint", serve.url() + "sd15/decode/",
                  "-j", "2", dir / "in", "-o", dir / "out2"},
                 80, 600, 50);
  ASSERT_FALSE(bar.timed_out);
  ASSERT_EQ(bar.exit_code, 0) << bar.output;
  // In place: many redraws, each started with \r; the bar itself ends its line only once.
  const std::size_t redraws = static_cast<std::size_t>(
      std::count(bar.output.begin(), bar.output.end(), '\r') -
      std::count(bar.output.begin(), bar.output.end(), '\n'));  // The tty turns \n into \r\n.
  EXPECT_GE(redraws, 5u) << bar.output;
  std::size_t bars = 0;
  std::size_t offset = 0;
  for (const std::string& piece : segments(bar.output)) {
    offset = bar.output.find(piece, offset);
    if (piece.rfind("decode [", 0) != 0) continue;  // "wrote ..." lines.
    ++bars;
    // Text drawn after the resize was certainly drawn for 50 columns.
    const std::size_t limit = offset > bar.resized_at + 200 ? 49 : 79;
    EXPECT_LE(piece.size(), limit) << "'" << piece << "'";
    EXPECT_THAT(piece, HasSubstr("/" + std::to_string(kInputs)));
    if (limit == 79) {
      EXPECT_THAT(piece, HasSubstr("/s"));
      EXPECT_THAT(piece, HasSubstr("ETA"));
    }
  }
  EXPECT_GE(bars, 5u);
  EXPECT_THAT(bar.output, HasSubstr("24/24"));
}

TEST(CliProgressTest, ASingleVideoShowsTheFramesWritten) {
  RVAE_SKIP_WITHOUT_PTY();
  Serve serve;
  ASSERT_FALSE(serve.url().empty());
  TempDir dir;
  // [1, 16, 3, 2, 2] -> 4 * (3 - 1) + 1 = 9 frames.
  const Tensor latents = Tensor::zeros({1, 16, 3, 2, 2}, DType::kFloat32).value();
  ASSERT_TRUE(write_npy(dir / "video.npy", latents.view()));
  const PtyRun shown =
      run_on_pty({kRvae, "decode", "--model", "hunyuan-video", "--endpoint",
                  serve.url() + "hunyuan-video/decode/", dir / "video.npy", "-o", dir / "frames/"},
                 80, 0, 80);
  ASSERT_FALSE(shown.timed_out);
  ASSERT_EQ(shown.exit_code, 0) << shown.output;
  std::string last_bar;
  for (const std::string& piece : segments(shown.output)) {
    if (piece.rfind("decode [", 0) == 0) last_bar = piece;
  }
  // The last redraw: every frame written, and the bar (of frames) full.
  EXPECT_THAT(last_bar, HasSubstr("frames 9/9"));
  const std::size_t open = last_bar.find('[');
  const std::size_t close = last_bar.find(']');
  ASSERT_NE(close, std::string::npos) << last_bar;
  EXPECT_EQ(last_bar.substr(open + 1, close - open - 1), std::string(close - open - 1, '='));

  // Not on a terminal, a single input prints no progress lines.
  const Outcome plain =
      run({kRvae, "decode", "--model", "hunyuan-video", "--endpoint",
           serve.url() + "hunyuan-video/decode/", dir / "video.npy", "-o", dir / "again/"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.err, "");
}

TEST(CliProgressTest, PlainLinesWhenStderrIsNotATerminal) {
  Serve serve;
  ASSERT_FALSE(serve.url().empty());
  TempDir dir;
  make_dir(dir / "in");
  for (int i = 0; i < 3; ++i)
    write_small_latents(dir / ("in/" + std::to_string(i) + ".npy"));
  const Outcome decoded = run({kRvae, "decode", "--model", "sd15", "--endpoint",
                               serve.url() + "sd15/decode/", dir / "in", "-o", dir / "out"});
  ASSERT_EQ(decoded.exit_code, 0) << decoded.err;
  EXPECT_EQ(decoded.err.find('\r'), std::string::npos);
  EXPECT_EQ(decoded.err.find('\033'), std::string::npos);
  EXPECT_THAT(decoded.err, HasSubstr("decode: 3/3 done, 0 failed\n"));
}

}  // namespace
}  // namespace rvae::cli_test
