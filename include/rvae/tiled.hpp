// Tiled decode and encode: any image size through an endpoint that caps each request, with the
// tiles in flight at once and no visible seam. Client::decode and Client::encode call these when
// the options' TilingOptions ask for tiling; call them directly to tile explicitly.
#pragma once

#include "rvae/client.hpp"
#include "rvae/error.hpp"
#include "rvae/export.h"
#include "rvae/image.hpp"
#include "rvae/options.hpp"
#include "rvae/tensor.hpp"
#include "rvae/tiling.hpp"

namespace RVAE_API rvae {

/// True when a decode of `latents` with `options` is split into tiles: mode kOn, or kAuto and an
/// output side above options.tiling.max_image_side. False for malformed input (the request
/// then reports it).
bool decode_needs_tiling(const TensorView& latents, const DecodeOptions& options) noexcept;
/// True when an encode of a width x height image with `options` is split into tiles.
bool encode_needs_tiling(int width, int height, const EncodeOptions& options) noexcept;

/// Decodes `latents` ([B,C,h,w], packed Flux [B,L,4C] with options.height/width, or video
/// [B,C,T,h,w]) as overlapping tiles sent through `client` at once, blended and colour-matched
/// (see TilingOptions). Each tile is sent in the caller's form (packed tiles for packed input)
/// and retried by the client as any request. When the plan has one tile, this is exactly one
/// plain request and its reply. Otherwise the result holds decoded pixels: kUInt8 and kImage
/// fill `images` (kImage also re-encodes them in options.image_format into `encoded`), kFloatTensor
/// fills `tensor` in the dtype the tiles came back in; kMp4 cannot be tiled (InvalidArgument).
/// Memory: the output plus the tiles in flight and waiting for a neighbour.
/// Errors: InvalidArgument for bad tiling settings or input; the first failing tile's error
/// (after its retries), prefixed with the tile's position; Cancelled; DeadlineExceeded when the
/// call's deadline (RequestControl::deadline, else ClientOptions::deadline) passes.
/// `timings.total` spans the whole call; `attempts` and byte counts add up every request.
Result<DecodeOutput> tiled_decode(Client& client, const Endpoint& endpoint,
                                  const TensorView& latents, const DecodeOptions& options);

/// Encodes an image of any size as overlapping tiles (multiples of 8 pixels) whose latents are
/// blended in latent space and colour-matched to an encode of the downsampled whole image.
/// Returns [1,C,H/8,W/8] latents in the dtype the tiles came back in. One tile: exactly the
/// plain request. Errors as tiled_decode; InvalidArgument when a side is not a multiple of 8.
Result<EncodeOutput> tiled_encode(Client& client, const Endpoint& endpoint, const Image& image,
                                  const EncodeOptions& options);
/// The same for a pixel tensor [B,3,H,W] (values in [-1,1]; uint8 as 0..255).
Result<EncodeOutput> tiled_encode(Client& client, const Endpoint& endpoint,
                                  const TensorView& pixels, const EncodeOptions& options);

/// tiled_decode() without blocking: runs on a thread of its own and returns at once. `latents`
/// must stay alive, and `client` must outlive the Pending. Pending::cancel() (or the options'
/// cancel token) stops it; dropping the Pending before get() cancels the call and waits for it
/// to stop (promptly). Callers who may or may not need tiling use
/// `decode_needs_tiling(...) ? tiled_decode_async(...) : client.decode_async(...)`.
Pending<DecodeOutput> tiled_decode_async(Client& client, const Endpoint& endpoint,
                                         const TensorView& latents, const DecodeOptions& options);
/// tiled_encode() of an image without blocking (the image is copied), with tiled_decode_async's
/// rules.
Pending<EncodeOutput> tiled_encode_async(Client& client, const Endpoint& endpoint,
                                         const Image& image, const EncodeOptions& options);

}  // namespace rvae
