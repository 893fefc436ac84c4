// POST /v2/models/{m}/infer (PROTOCOL.md §8): a parsed request checked against the model like
// Triton checks it, the stand-in VAE run on raw latents, and the reply in binary or JSON form.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "rvae/error.hpp"
#include "testing/inference.hpp"
#include "testing/oip_models.hpp"
#include "testing/oip_request.hpp"

namespace rvae::reference {

/// Runs one inference. `header_length` is Inference-Header-Content-Length (nullopt: JSON form).
/// InvalidArgument (HTTP 400) with Triton's wording where Triton has one. The reply carries
/// Inference-Header-Content-Length in `headers` when it is binary.
Result<InferenceReply> run_oip_infer(const OipModel& model, const OipDatatypes& datatypes,
                                     std::string_view body,
                                     std::optional<std::uint64_t> header_length,
                                     const InferenceLimits& limits,
                                     const OipParseLimits& parse_limits);

}  // namespace rvae::reference
