// What a streamed decode call gives back once its last transfer ended: the errors it met, with
// what was handed out before them, or the layout and what was delivered.
#pragma once

#include "api/call.hpp"
#include "api/reply_streamer.hpp"
#include "rvae/error.hpp"
#include "rvae/options.hpp"
#include "transport/transport.hpp"

namespace rvae::detail {

/// `error` with the streamer's note on what was handed out before it.
Error with_delivery_note(Error error, const ReplyStreamer& streamer);

/// Finishes the streamer (the reply complete when the transfer succeeded with 200) and gives the
/// call's result: a DecodeOutput holding the layout and what was delivered, or the error.
Result<DecodeOutput> finish_streamed_decode(transport::TransferResult&& result,
                                            const CallInfo& info, ReplyStreamer& streamer);

}  // namespace rvae::detail
