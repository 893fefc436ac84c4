#include "api/streamed_decode.hpp"

#include <string>
#include <utility>

#include "protocol/protocol.hpp"

namespace rvae::detail {

using transport::Clock;

Error with_delivery_note(Error error, const ReplyStreamer& streamer) {
  const std::string note = streamer.partial_delivery_note();
  if (note.empty()) return error;
  Error noted(error.code(), error.message() + note);
  noted.with_http_status(error.http_status()).with_retryable(error.retryable());
  if (!error.server_message().empty()) noted.with_server_message(error.server_message());
  return noted;
}

Result<DecodeOutput> finish_streamed_decode(transport::TransferResult&& result,
                                            const CallInfo& info, ReplyStreamer& streamer) {
  const auto start = Clock::now();
  const bool complete = result.response && result.response->status == 200;
  Result<Delivered> delivered = streamer.finish(complete);
  // A callback that failed (or stopped the call) ended the transfer: its error is the cause, not
  // what the transfer ended with.
  if (!delivered) {
    return annotate_failure(with_delivery_note(std::move(delivered).error(), streamer), info);
  }
  if (!result.response) {
    return annotate_failure(with_delivery_note(std::move(result.response).error(), streamer), info);
  }
  if (result.response->status != 200) {
    return annotate_failure(
        with_delivery_note(protocol::error_from_reply(*result.response), streamer), info);
  }
  DecodeOutput output;
  output.layout = streamer.layout();
  output.type = output.layout.type;
  output.delivered = *delivered;
  output.timings = make_timings(result.timings, info, Clock::now() - start);
  return output;
}

}  // namespace rvae::detail
