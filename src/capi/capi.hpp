// The C API's private plumbing: the structs behind its opaque handles, the one place that turns
// errors and exceptions into status codes, and the conversions between C and C++ types.
#pragma once

#include <cstddef>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <utility>

#include "rvae/cancel.hpp"
#include "rvae/client.hpp"
#include "rvae/error.hpp"
#include "rvae/image.hpp"
#include "rvae/options.hpp"
#include "rvae/presets.hpp"
#include "rvae/reply_stream.hpp"
#include "rvae/rvae.h"
#include "rvae/tensor.hpp"
#include "rvae/tiling.hpp"

struct rvae_error {
  rvae::Error error;
};

struct rvae_client {
  rvae::Client client;
};

struct rvae_cancel_token {
  rvae::CancelToken token;
};

namespace rvae::capi {

/// The rvae_status of a C++ error code.
int status_of(ErrorCode code) noexcept;

/// Stores `error` in *err (when err is not NULL) and returns its status.
int fail(rvae_error** err, const Error& error) noexcept;
/// fail() with a new error; `message` names the function and the argument at fault.
int fail(rvae_error** err, ErrorCode code, const std::string& message) noexcept;
/// Clears *err (when err is not NULL) and returns RVAE_OK.
int succeed(rvae_error** err) noexcept;

/// Runs `body` (which returns a status) so that no exception leaves the C API: allocation
/// failures become RVAE_ERR_RESOURCE_EXHAUSTED, anything else RVAE_ERR_INTERNAL.
template <typename Body>
int guarded(rvae_error** err, const char* function, Body&& body) noexcept {
  try {
    return std::forward<Body>(body)();
  } catch (const std::bad_alloc&) {
    return fail(err, ErrorCode::kResourceExhausted, std::string(function) + ": out of memory");
  } catch (const std::exception& e) {
    return fail(err, ErrorCode::kInternal, std::string(function) + ": " + e.what());
  } catch (...) {
    return fail(err, ErrorCode::kInternal, std::string(function) + ": unknown exception");
  }
}

/// The size of a C struct up to the end of `field`: a first version's size is pinned as this of
/// the last field that version had, so that adding fields later does not refuse older programs.
#define RVAE_CAPI_SIZE_THROUGH(type, field) (offsetof(type, field) + sizeof(type::field))

/// Whether fields added after a first version of `first_size` bytes start after that version's
/// tail padding (what sizeof gave older programs, which they pass as struct_size): otherwise an
/// older program's padding bytes would be read as a newer field.
constexpr bool starts_after_padding(std::size_t first_size, std::size_t align,
                                    std::size_t added_field_offset) noexcept {
  return added_field_offset >= (first_size + align - 1) / align * align;
}

/// Copies a caller's params struct into `out` (which holds the defaults), honouring its
/// struct_size: a smaller struct from an older rvae.h leaves the newer fields at their defaults;
/// a larger one (a newer header than this library) or one below the first version's size is
/// refused. `first_size` is the struct's size in the first rvae.h that had it; `init` names the
/// function that sets struct_size, for the message.
template <typename Params>
Result<void> read_params(const Params* in, std::size_t first_size, Params& out,
                         const char* function, const char* init) {
  if (in == nullptr) return {};
  if (in->struct_size < first_size || in->struct_size > sizeof(Params)) {
    return Error(ErrorCode::kInvalidArgument, std::string(function) + ": params->struct_size is " +
                                                  std::to_string(in->struct_size) + ", expected " +
                                                  std::to_string(first_size) + ".." +
                                                  std::to_string(sizeof(Params)) + " (call " +
                                                  init + " before setting fields)");
  }
  std::memcpy(static_cast<void*>(&out), static_cast<const void*>(in), in->struct_size);
  return {};
}

/// Hands a filled params struct to a caller whose struct has `size` bytes: no byte past them is
/// written (a program built against an older rvae.h has a smaller struct), and struct_size says
/// how much was filled. A size below the first version's writes nothing: the call the params
/// are given to then refuses them.
template <typename Params>
void store_params(Params filled, Params* out, std::size_t size, std::size_t first_size) noexcept {
  if (out == nullptr || size < first_size) return;
  const std::size_t kept = size < sizeof(Params) ? size : sizeof(Params);
  filled.struct_size = kept;
  std::memcpy(static_cast<void*>(out), static_cast<const void*>(&filled), kept);
}

/// The value a C caller stored in an enum field, read as bytes: C (and FFI) callers may store any
/// int there, and loading an out-of-range value through the C++ enum type would be undefined.
template <typename Enum>
int raw_enum(const Enum& field) noexcept {
  static_assert(sizeof(Enum) == sizeof(int), "C enums are int-sized here");
  int value = 0;
  std::memcpy(&value, &field, sizeof value);
  return value;
}

/// The built-in presets, created once.
const PresetRegistry& builtin_presets();
/// The preset named `model`; InvalidArgument naming the known ones when there is none.
Result<const ModelPreset*> find_model(const char* model, const char* function);

/// The URL to call: `endpoint` when given, else the preset's default (decode or encode).
Result<std::string> resolve_endpoint(const char* endpoint, const char* model, bool decode,
                                     const char* function);

/// The endpoint at `url` with the params' protocol (an rvae_protocol value as stored) and tensor
/// names (NULL: none). InvalidArgument for a protocol value that is none of rvae_protocol's.
Result<Endpoint> endpoint_of(std::string url, int protocol, const char* input_name,
                             const char* output_name, const char* function);

/// Checks a C tensor view and describes it as a C++ one (borrowing the same bytes).
Result<TensorView> tensor_view_of(const rvae_tensor_view* view, const char* function);

/// The tiling fields of rvae_decode_params and rvae_encode_params, as the caller set them.
struct TilingFields {
  int mode = RVAE_TILE_AUTO;
  int tile_size = 0;
  int overlap = 0;
  int max_image_side = 0;
  int colour_reference = 0;
  std::size_t max_in_flight = 0;
};
template <typename Params>
TilingFields tiling_fields_of(const Params& p) noexcept {
  return {raw_enum(p.tile_mode),   p.tile_size,         p.tile_overlap, p.max_image_side,
          p.tile_colour_reference, p.tile_max_in_flight};
}

/// Tiling settings from the C fields (0 meaning the default in each). The cap is the caller's
/// max_image_side when set, else `preset`'s (may be null), else the library's default.
Result<TilingOptions> tiling_of(const TilingFields& fields, const ModelPreset* preset,
                                const char* function);

/// Decode options from (already read) params; `batch` leaves the per-call progress unset.
Result<DecodeOptions> decode_options_of(const rvae_decode_params& params, const char* function);
/// Encode options from (already read) params.
Result<EncodeOptions> encode_options_of(const rvae_encode_params& params, const char* function);

/// The rvae_progress of one call's transfer.
rvae_progress progress_of(const TransferProgress& transfer) noexcept;

/// The C values of C++ enums.
rvae_dtype c_dtype(DType dtype);
rvae_output_type c_output_type(OutputType type);

/// Whether any stream field of the params is set (a callback, `into` or into_size).
bool stream_requested(const rvae_decode_params& p) noexcept;
/// The stream fields as a ReplyStream (inactive when none is set), checked: at most one of the
/// frame callback, chunk callback and `into`, each with an output type it can serve. A C
/// callback's nonzero return throws the Cancelled error that ends the call.
Result<ReplyStream> stream_of(const rvae_decode_params& p, const char* function);
/// Fills the fields of *out that fit in out->struct_size (already checked) from `layout`.
void fill_layout(const ReplyLayout& layout, rvae_reply_layout* out);

/// Copies into library-allocated C results; throw std::bad_alloc when memory runs out (and
/// leave nothing allocated then). `streamed`: the output of a streamed decode, whose delivery is
/// reported in the result.
void copy_image(const Image& image, rvae_image* out);
void copy_tensor(const Tensor& tensor, rvae_tensor* out);
rvae_decode_result* copy_decode_output(const DecodeOutput& output, bool streamed = false);

}  // namespace rvae::capi
