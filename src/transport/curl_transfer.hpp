// One transfer of the libcurl transport, and the C callbacks libcurl calls for it. Nothing
// thrown inside a callback crosses back into libcurl: each catches at its boundary and records
// the failure as the transfer's error.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/buffer_pool.hpp"
#include "http/message.hpp"
#include "rvae/error.hpp"
#include "transport/transport.hpp"

namespace rvae::transport {

struct SlistDeleter {
  void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

struct EasyDeleter {
  void operator()(CURL* handle) const noexcept { curl_easy_cleanup(handle); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;

/// One transfer, from submit() to done(); possibly several legs when redirects are followed.
struct Transfer {
  std::shared_ptr<const http::HttpRequest> request;
  TransferOptions options;
  Clock::time_point not_before;
  Clock::time_point submitted;
  Clock::time_point started;  ///< When the first leg started (after any queueing).
  std::uint64_t sequence = 0;
  TransferDone done;
  std::uint64_t cancel_callback = 0;

  // Where this leg goes, and whether the token may go there.
  std::string url;
  std::string origin;
  bool send_token = true;
  int redirects_followed = 0;

  Easy easy;
  bool easy_reused = false;
  Slist headers;
  char error_buffer[CURL_ERROR_SIZE] = {0};
  http::HttpResponse response;
  std::size_t max_reply_bytes = 0;
  detail::BufferPool* pool = nullptr;
  /// Lets this transfer go on after its sink paused it.
  Resume resume;

  // Where the request body is being read from, for a body of several pieces.
  std::size_t read_piece = 0;
  std::size_t read_offset = 0;

  // What the callbacks observed on this leg.
  int status = 0;        ///< From the last status line.
  bool to_sink = false;  ///< This leg's body goes to options.sink (a 2xx reply).
  bool sink_began = false;
  bool paused = false;  ///< The sink paused the transfer and has not resumed it yet.
  std::uint64_t sink_bytes = 0;
  bool headers_complete = false;
  bool reply_too_large = false;
  bool callback_failed = false;  ///< A callback threw; callback_error says what, when known.
  std::optional<Error> callback_error;
  Clock::time_point leg_started;
  std::optional<Clock::time_point> upload_done;
  std::optional<Clock::time_point> first_byte;
  TransferProgress progress;

  bool cancelled() const { return options.cancel && options.cancel->cancelled(); }
  /// Forgets what the previous leg received, before the next one starts.
  void reset_leg(Clock::time_point now);
};

/// CURLOPT_HEADERFUNCTION: collects the final reply's headers; refuses a declared
/// Content-Length over the cap before any body byte is read.
std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) noexcept;
/// CURLOPT_WRITEFUNCTION: hands a 2xx body to the sink when there is one; else appends to the
/// body within the cap.
std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) noexcept;
/// CURLOPT_READFUNCTION: the request body's pieces, one after another.
std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user) noexcept;
/// CURLOPT_SEEKFUNCTION: libcurl rewinds the body to resend it (e.g. on a reused connection
/// that closed).
int on_seek(void* user, curl_off_t offset, int origin) noexcept;
/// CURLOPT_XFERINFOFUNCTION: cancellation, the end-of-upload moment, the caller's progress.
int on_progress(void* user, curl_off_t download_total, curl_off_t downloaded,
                curl_off_t upload_total, curl_off_t uploaded) noexcept;

}  // namespace rvae::transport
