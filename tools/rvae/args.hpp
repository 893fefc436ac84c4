// A small command-line parser: `--name value`, `--name=value`, boolean `--flag`, positionals.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace rvae::cli {

/// Thrown for a usage error; main() prints it with the command's usage and exits with 2.
struct UsageError {
  std::string message;
};

class Args {
 public:
  /// `value_options` take a value; `flags` do not. Both are given without the leading "--".
  /// Short `-o` is accepted as `--output`, `-h` as `--help`, `-j` as `--jobs`, `-v` as
  /// `--verbose`, `-q` as `--quiet`.
  Args(const std::vector<std::string>& argv, const std::set<std::string>& value_options,
       const std::set<std::string>& flags);

  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::optional<std::string> get(const std::string& name) const;
  /// The value as a finite double; UsageError when it is not one.
  std::optional<double> get_double(const std::string& name) const;
  /// The value as an int within [min, max]; UsageError otherwise.
  std::optional<int> get_int(const std::string& name, int min, int max) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positionals_;
};

}  // namespace rvae::cli
