// The subcommands of the rvae CLI. Each returns the exit code; usage errors are thrown as
// UsageError (exit 2) and runtime failures as rvae::Error (exit 1).
#pragma once

#include <string>
#include <vector>

namespace rvae::cli {

int decode_command(const std::vector<std::string>& argv);
int encode_command(const std::vector<std::string>& argv);
int serve_command(const std::vector<std::string>& argv);
int demo_command(const std::vector<std::string>& argv);
int bench_command(const std::vector<std::string>& argv);
int tile_bench_command(const std::vector<std::string>& argv);
int presets_command(const std::vector<std::string>& argv);
int preview_command(const std::vector<std::string>& argv);
int check_command(const std::vector<std::string>& argv);

}  // namespace rvae::cli
