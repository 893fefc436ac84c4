// Helpers shared by the Open Inference Protocol's .cpp files; not part of any interface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rvae/error.hpp"
#include "rvae/image.hpp"
#include "rvae/tensor.hpp"

namespace rvae::protocol::oip::internal {

/// Bounds on an inference reply's JSON that keep a hostile one from costing much memory.
inline constexpr std::size_t kMaxReplyOutputs = 4096;
inline constexpr std::size_t kMaxReplyRank = 8;
inline constexpr std::size_t kMaxReplyNameBytes = 1024;
inline constexpr std::size_t kMaxReplyDepth = 32;

/// One entry of an inference reply's `outputs`, as far as finding and reading one needs.
struct ReplyOutput {
  std::string name;
  std::string datatype;
  Shape shape;
  bool has_shape = false;
  bool has_parameters = false;  ///< A `parameters` object (null counts as absent).
  std::optional<std::uint64_t> binary_data_size;
  bool has_data = false;
};

struct ReplyJson {
  bool has_outputs = false;
  std::vector<ReplyOutput> outputs;
  std::optional<std::string> error;  ///< A top-level `error` string.
};

/// Reads the structure of an inference reply's JSON (the whole body, or a binary reply's
/// header) without keeping any `data` array. DataLoss for invalid JSON, wrong types, duplicate
/// keys, nesting deeper than kMaxReplyDepth and the bounds above.
Result<ReplyJson> scan_reply_json(std::string_view json);

/// Streams the `data` of outputs[output_index] (flat or nested) into `dst` as `numel` elements
/// of `dtype`: each value must be a finite number the dtype holds (UINT8: integers 0..255).
/// DataLoss naming `output_name` otherwise, and when the count differs from numel.
Result<void> read_json_data(std::string_view json, std::size_t output_index,
                            std::string_view output_name, DType dtype, std::size_t numel,
                            std::uint8_t* dst);

/// A float pixel in [-1, 1] to a level as the reference endpoint quantises for
/// `partial_postprocess=True`: round((v + 1) * 127.5), half away from zero, clamped to 0..255;
/// NaN gives 0. Written as truncation of level + 0.5 between two selects so loops of it
/// vectorise; equal to std::round for every float (the + 0.5 is exact wherever truncation could
/// differ), which the tests check over every FP16 value and each half-level boundary.
inline std::uint8_t quantise_pixel(float value) noexcept {
  const double level = (static_cast<double>(value) + 1.0) * 127.5 + 0.5;
  const double low = level > 0.5 ? level : 0.5;  // NaN fails the comparison: 0.5, level 0.
  const double high = low < 255.0 ? low : 255.0;
  return static_cast<std::uint8_t>(static_cast<std::int32_t>(high));
}

/// Interleaves three float planes of `count` pixels (FP32, FP16 or BF16, each plane
/// `plane_stride` elements apart from the first) into RGB8 at `out`, by quantise_pixel.
void planes_to_rgb8(DType dtype, const std::uint8_t* first_plane, std::size_t plane_stride,
                    std::size_t count, std::uint8_t* out) noexcept;

/// `text` quoted for a message: printable and short.
std::string in_quotes(std::string_view text);

/// "[1,4,-1,-1]" for shapes with -1.
std::string dims_text(const Shape& shape);

}  // namespace rvae::protocol::oip::internal
