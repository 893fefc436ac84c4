#include "tiling/joined_stream.hpp"

#include <utility>

#include "api/reply_streamer.hpp"
#include "core/try.hpp"

namespace rvae::detail {

Result<DecodeOutput> stream_joined(
    Engine& engine, const Endpoint& endpoint, const TensorView& latents,
    const DecodeOptions& options,
    const std::function<Result<DecodeOutput>(const DecodeOptions& joined)>& decode) {
  RVAE_ASSIGN_OR_RETURN(ReplyLayout layout, engine.reply_layout(endpoint, latents, options));
  RVAE_TRY(ReplyStreamer::check_request(options.stream, layout));
  DecodeOptions joined = options;
  joined.stream = {};
  RVAE_ASSIGN_OR_RETURN(DecodeOutput output, decode(joined));
  output.layout = layout;
  ReplyStreamer streamer(options.stream, engine.workers(), nullptr,
                         options.control.cancel.value_or(CancelToken()));
  RVAE_ASSIGN_OR_RETURN(Delivered delivered, streamer.deliver_whole(output));
  DecodeOutput streamed;
  streamed.type = output.type;
  streamed.layout = streamer.layout();
  streamed.delivered = delivered;
  streamed.timings = output.timings;
  return streamed;
}

}  // namespace rvae::detail
