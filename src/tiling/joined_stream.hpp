// A stream (DecodeOptions::stream) given the joined output of a tiled or chunked call, for the
// forms that cannot be handed out piece by piece as the pieces arrive.
#pragma once

#include <functional>

#include "api/engine.hpp"
#include "rvae/error.hpp"
#include "rvae/options.hpp"
#include "rvae/tensor.hpp"

namespace rvae::detail {

/// Refuses before anything is sent what the stream cannot serve (the layout of the whole output,
/// a buffer too small for it); then runs `decode` with the stream cleared and hands its output
/// to the stream, in order, on this thread. The result holds the layout and what was delivered.
Result<DecodeOutput> stream_joined(
    Engine& engine, const Endpoint& endpoint, const TensorView& latents,
    const DecodeOptions& options,
    const std::function<Result<DecodeOutput>(const DecodeOptions& joined)>& decode);

}  // namespace rvae::detail
