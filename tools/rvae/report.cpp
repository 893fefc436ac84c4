#include "report.hpp"

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "interrupt.hpp"

namespace rvae::cli {
namespace {

std::string milliseconds(std::chrono::microseconds value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f ms", static_cast<double>(value.count()) / 1000.0);
  return text;
}

double ms(std::chrono::microseconds value) {
  return static_cast<double>(value.count()) / 1000.0;
}

}  // namespace

std::string describe(const Error& error) {
  std::string text = std::string(to_string(error.code())) + ": " + error.message();
  if (error.http_status() != 0) {
    const std::string status = "HTTP " + std::to_string(error.http_status());
    if (error.message().find(status) == std::string::npos) text += " (" + status + ")";
  }
  if (!error.server_message().empty()) text += ": server said: " + error.server_message();
  return text;
}

std::string report_json(const InputReport& report) {
  nlohmann::ordered_json object;
  object["input"] = report.input;
  object["ok"] = !report.error.has_value();
  object["output"] = report.output.empty() ? nlohmann::ordered_json(nullptr)
                                           : nlohmann::ordered_json(report.output);
  object["model"] = report.model;
  object["endpoint"] = report.endpoint;
  object["shape"] = report.shape;
  object["dtype"] =
      report.dtype.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(report.dtype);
  object["bytes"] = report.bytes;
  object["frames_written"] = report.frames_written ? nlohmann::ordered_json(*report.frames_written)
                                                   : nlohmann::ordered_json(nullptr);
  object["first_frame_ms"] = report.first_frame_ms ? nlohmann::ordered_json(*report.first_frame_ms)
                                                   : nlohmann::ordered_json(nullptr);
  if (report.timings) {
    const RequestTimings& t = *report.timings;
    object["attempts"] = t.attempts;
    object["protocol"] = t.protocol;
    object["bytes_sent"] = t.bytes_sent;
    object["bytes_received"] = t.bytes_received;
    object["timings_ms"] = {
        {"prepare", ms(t.prepare)},   {"queue", ms(t.queue)},   {"connect", ms(t.connect)},
        {"tls", ms(t.tls)},           {"upload", ms(t.upload)}, {"server", ms(t.server_wait)},
        {"download", ms(t.download)}, {"decode", ms(t.decode)}, {"total", ms(t.total)}};
  } else {
    // A failed call's Error carries no timings.
    object["attempts"] = nullptr;
    object["timings_ms"] = nullptr;
  }
  if (report.error) {
    object["error"] = {{"code", to_string(report.error->code())},
                       {"message", report.error->message()},
                       {"http_status", report.error->http_status() == 0
                                           ? nlohmann::ordered_json(nullptr)
                                           : nlohmann::ordered_json(report.error->http_status())},
                       {"server_message", report.error->server_message()}};
  } else {
    object["error"] = nullptr;
  }
  // Invalid UTF-8 in a file name must not make the report unparsable.
  return object.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

Reporter::Reporter(std::string command, ReportStyle style, bool verbose, bool many)
    : command_(std::move(command)), style_(style), verbose_(verbose), many_(many) {}

void Reporter::report(const InputReport& report) const {
  if (report.error) {
    std::cerr << "rvae " << command_ << ": " << (many_ ? report.input + ": " : "")
              << describe(*report.error) << std::endl;
  }
  if (style_ == ReportStyle::kJson) {
    std::cout << report_json(report) << std::endl;
    return;
  }
  if (style_ == ReportStyle::kQuiet || report.error) return;
  // The data itself went to stdout: the other lines go to stderr.
  std::ostream& lines = report.output == "-" ? std::cerr : std::cout;
  if (verbose_ && report.timings) lines << timing_line(report.input, *report.timings) << "\n";
  std::string line = "wrote " + (report.output == "-" ? "standard output" : report.output);
  if (!report.dtype.empty()) line += " " + shape_to_string(report.shape) + " " + report.dtype;
  lines << line << std::endl;
}

int Reporter::conclude(const BatchSummary& summary, std::size_t read_failures) const {
  const std::size_t failed = summary.failed + read_failures;
  if (summary.interrupted) {
    std::cerr << "rvae " << command_ << ": interrupted: " << summary.succeeded << " of "
              << summary.total << " outputs written, " << failed << " failed, " << summary.not_done
              << " not done" << std::endl;
    return InterruptGuard::exit_code();
  }
  if (failed == 0) return 0;
  if (many_) {
    std::cerr << "rvae " << command_ << ": " << failed << " of " << summary.total
              << " inputs failed" << std::endl;
  }
  return 1;
}

std::string timing_line(const std::string& name, const RequestTimings& timings) {
  return name + ": " + std::to_string(timings.attempts) +
         (timings.attempts == 1 ? " attempt" : " attempts") + " to " + timings.endpoint + " (" +
         (timings.protocol.empty() ? "no reply" : timings.protocol) + ")" + ", prepare " +
         milliseconds(timings.prepare) + ", queue " + milliseconds(timings.queue) + ", connect " +
         milliseconds(timings.connect) + ", tls " + milliseconds(timings.tls) + ", upload " +
         milliseconds(timings.upload) + ", server " + milliseconds(timings.server_wait) +
         ", download " + milliseconds(timings.download) + ", decode " +
         milliseconds(timings.decode) + ", total " + milliseconds(timings.total) + ", " +
         std::to_string(timings.bytes_sent) + " B sent, " + std::to_string(timings.bytes_received) +
         " B received";
}

}  // namespace rvae::cli
