// An Open Inference Protocol inference request (PROTOCOL.md §8) read from its body: the binary
// form (a JSON header of Inference-Header-Content-Length bytes, then the inputs' bytes) or the
// JSON form (`data` arrays). One streaming parser reads both: the small parts of the JSON become
// a DOM, every `data` array goes number by number straight into a float32 buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rvae/error.hpp"
#include "rvae/tensor.hpp"

namespace rvae::reference {

/// One entry of `inputs`.
struct OipInput {
  std::string name;
  std::string datatype;  ///< as sent
  Shape shape;
  /// Binary form: `parameters.binary_data_size` and the bytes it names in the body.
  std::optional<std::uint64_t> binary_data_size;
  std::string_view bytes;
  /// JSON form: the `data` numbers, flattened. float32 is the only datatype a model here takes
  /// in JSON (Triton refuses FP16 and BF16 there), so the typed buffer is float32.
  bool has_data = false;
  std::vector<float> data;
};

/// One entry of `outputs`.
struct OipRequestedOutput {
  std::string name;
  std::optional<bool> binary_data;  ///< `parameters.binary_data`
};

struct OipInferRequest {
  std::optional<std::string> id;
  bool binary_data_output = false;  ///< request-level default for outputs that do not say
  std::vector<OipInput> inputs;
  std::optional<std::vector<OipRequestedOutput>> outputs;  ///< nullopt: every output
};

/// Caps on reading a request (a hostile body must not make the parser allocate much more than it
/// has bytes).
struct OipParseLimits {
  std::size_t max_json_header_bytes = std::size_t{1} << 20;
  std::size_t max_json_body_bytes = std::size_t{64} << 20;
};

/// Parses the body. `header_length` is Inference-Header-Content-Length (nullopt: JSON form).
/// InvalidArgument with the reason for malformed JSON, depth past 32, a number that is not
/// finite in float32, non-numbers in `data`, wrong field types, `triton_` parameters, a
/// header length past the body or the cap, and binary sizes that do not add up to the body.
Result<OipInferRequest> parse_oip_request(std::string_view body,
                                          std::optional<std::uint64_t> header_length,
                                          const OipParseLimits& limits);

}  // namespace rvae::reference
