#include "transport/curl_transfer.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <string_view>

#include "core/text.hpp"
#include "transport/reply_buffer.hpp"

namespace rvae::transport {
namespace {

// The exception being handled, as the transfer's error. Called only inside a catch block.
Error error_from_current_exception(const char* activity) {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    return Error(ErrorCode::kResourceExhausted, std::string("out of memory while ") + activity);
  } catch (const std::exception& error) {
    return Error(ErrorCode::kInternal, std::string(activity) + " failed: " + error.what());
  } catch (...) {
    return Error(ErrorCode::kInternal, std::string(activity) + " failed with an exception");
  }
}

// Records the exception being handled. Never throws: when even building the Error runs out of
// memory, `callback_failed` alone makes the transport report it.
void record_exception(Transfer& transfer, const char* activity) noexcept {
  transfer.callback_failed = true;
  if (transfer.callback_error) return;
  try {
    transfer.callback_error = error_from_current_exception(activity);
  } catch (...) {
    transfer.callback_error.reset();
  }
}

// The status code of a status line ("HTTP/1.1 200 OK", "HTTP/2 200"); 0 when unreadable.
int status_of(std::string_view line) {
  const std::size_t space = line.find(' ');
  if (space == std::string_view::npos) return 0;
  line = line.substr(space + 1);
  int status = 0;
  const auto [end, ec] =
      std::from_chars(line.data(), line.data() + std::min<std::size_t>(3, line.size()), status);
  return ec == std::errc() && end == line.data() + 3 ? status : 0;
}

std::size_t handle_header(Transfer& transfer, std::string_view line, std::size_t length) {
  if (!transfer.first_byte) transfer.first_byte = Clock::now();
  if (line.rfind("HTTP/", 0) == 0) {
    // A new status line (an interim 1xx): earlier headers were not those of the reply.
    transfer.response.headers.clear();
    transfer.headers_complete = false;
    transfer.status = status_of(line);
    transfer.to_sink = transfer.options.sink && transfer.status >= 200 && transfer.status < 300;
    return length;
  }
  line = detail::trim(line);
  if (line.empty()) {
    transfer.headers_complete = true;
    if (transfer.to_sink && !transfer.sink_began) {
      transfer.sink_began = true;
      Result<void> began =
          transfer.options.sink->begin(transfer.status, transfer.response.headers, transfer.resume);
      if (!began) {
        transfer.callback_failed = true;
        transfer.callback_error = std::move(began).error();
        return 0;
      }
    }
    return length;
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return length;
  const std::string_view name = detail::trim(line.substr(0, colon));
  const std::string_view value = detail::trim(line.substr(colon + 1));
  // A streamed body is bounded by its sink, not by the buffered-reply cap.
  if (!transfer.to_sink && http::iequals(name, "Content-Length")) {
    std::uint64_t declared = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), declared);
    const bool parsed = ec == std::errc() && end == value.data() + value.size();
    if ((parsed && declared > transfer.max_reply_bytes) || ec == std::errc::result_out_of_range) {
      transfer.reply_too_large = true;
      return 0;  // Aborts before the body is read (CURLE_WRITE_ERROR).
    }
    if (parsed && transfer.response.body.capacity() < declared) {
      const auto expected = static_cast<std::size_t>(declared);
      if (transfer.pool != nullptr && transfer.response.body.empty()) {
        transfer.response.body = transfer.pool->take(expected);
      } else {
        transfer.response.body.reserve(expected);
      }
    }
  }
  transfer.response.headers.push_back({std::string(name), std::string(value)});
  return length;
}

}  // namespace

void Transfer::reset_leg(Clock::time_point now) {
  if (pool != nullptr) pool->give(std::move(response.body));
  response = http::HttpResponse();
  error_buffer[0] = '\0';
  read_piece = 0;
  read_offset = 0;
  status = 0;
  to_sink = false;
  sink_began = false;
  paused = false;
  sink_bytes = 0;
  headers_complete = false;
  leg_started = now;
  upload_done.reset();
  first_byte.reset();
  progress = TransferProgress();
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) noexcept {
  auto& transfer = *static_cast<Transfer*>(user);
  const std::size_t length = size * count;
  try {
    return handle_header(transfer, std::string_view(data, length), length);
  } catch (...) {
    record_exception(transfer, "receiving the reply headers");
    return 0;
  }
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) noexcept {
  auto& transfer = *static_cast<Transfer*>(user);
  const std::size_t length = size * count;
  try {
    if (transfer.to_sink) {
      Result<ReplySink::Flow> flow =
          transfer.options.sink->write(reinterpret_cast<const std::uint8_t*>(data), length);
      if (!flow) {
        transfer.callback_failed = true;
        transfer.callback_error = std::move(flow).error();
        return 0;
      }
      if (*flow == ReplySink::Flow::kPause) {
        transfer.paused = true;
        return CURL_WRITEFUNC_PAUSE;
      }
      transfer.sink_bytes += length;
      return length;
    }
    Bytes& body = transfer.response.body;
    if (body.capacity() == 0 && transfer.pool != nullptr) body = transfer.pool->take(0);
    if (!append_capped(body, reinterpret_cast<const std::uint8_t*>(data), length,
                       transfer.max_reply_bytes)) {
      transfer.reply_too_large = true;
      return 0;  // Makes libcurl abort with CURLE_WRITE_ERROR.
    }
    return length;
  } catch (...) {
    record_exception(transfer, "receiving the reply body");
    return 0;
  }
}

std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user) noexcept {
  auto& transfer = *static_cast<Transfer*>(user);
  const std::vector<http::BodyPiece>& pieces = transfer.request->body.pieces();
  std::size_t room = size * count;
  std::size_t written = 0;
  while (room > 0 && transfer.read_piece < pieces.size()) {
    const http::BodyPiece& piece = pieces[transfer.read_piece];
    const std::size_t take = std::min(room, piece.size - transfer.read_offset);
    std::memcpy(buffer + written, piece.data + transfer.read_offset, take);
    written += take;
    room -= take;
    transfer.read_offset += take;
    if (transfer.read_offset == piece.size) {
      ++transfer.read_piece;
      transfer.read_offset = 0;
    }
  }
  return written;
}

int on_seek(void* user, curl_off_t offset, int origin) noexcept {
  auto& transfer = *static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0) return CURL_SEEKFUNC_CANTSEEK;
  auto left = static_cast<std::uint64_t>(offset);
  const std::vector<http::BodyPiece>& pieces = transfer.request->body.pieces();
  transfer.read_piece = 0;
  transfer.read_offset = 0;
  while (transfer.read_piece < pieces.size() && left >= pieces[transfer.read_piece].size) {
    left -= pieces[transfer.read_piece].size;
    ++transfer.read_piece;
  }
  if (transfer.read_piece == pieces.size())
    return left == 0 ? CURL_SEEKFUNC_OK : CURL_SEEKFUNC_FAIL;
  transfer.read_offset = static_cast<std::size_t>(left);
  return CURL_SEEKFUNC_OK;
}

int on_progress(void* user, curl_off_t download_total, curl_off_t downloaded,
                curl_off_t upload_total, curl_off_t uploaded) noexcept {
  auto& transfer = *static_cast<Transfer*>(user);
  if (transfer.cancelled()) return 1;  // Aborts with CURLE_ABORTED_BY_CALLBACK.
  if (!transfer.upload_done && upload_total > 0 && uploaded >= upload_total) {
    transfer.upload_done = Clock::now();
  }
  const auto count = [](curl_off_t value) {
    return static_cast<std::uint64_t>(std::max<curl_off_t>(0, value));
  };
  const TransferProgress now{count(uploaded), count(upload_total), count(downloaded),
                             count(download_total)};
  const TransferProgress& before = transfer.progress;
  const bool changed = now.uploaded != before.uploaded || now.downloaded != before.downloaded ||
                       now.upload_total != before.upload_total ||
                       now.download_total != before.download_total;
  transfer.progress = now;
  if (!changed || !transfer.options.on_progress) return 0;
  try {
    transfer.options.on_progress(now);
    return 0;
  } catch (...) {
    record_exception(transfer, "running the progress callback");
    return 1;
  }
}

}  // namespace rvae::transport
