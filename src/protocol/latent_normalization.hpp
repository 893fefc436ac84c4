// TEMPORARY (replaced by the norm branch's version at merge).
#pragma once
#include <optional>
#include "rvae/error.hpp"
#include "rvae/options.hpp"
#include "rvae/tensor.hpp"
namespace rvae::protocol {
Result<std::optional<LatentNormalization>> normalization_of(const DecodeOptions& options);
Result<std::optional<LatentNormalization>> normalization_of(const EncodeOptions& options);
}  // namespace rvae::protocol
