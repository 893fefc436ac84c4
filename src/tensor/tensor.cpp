// TensorView checks and the owned Tensor's constructors and accessors.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "core/try.hpp"
#include "rvae/error.hpp"
#include "rvae/tensor.hpp"
#include "tensor/float_io.hpp"

namespace rvae {
namespace {

// Product of the dims, or 0 when the shape is empty, has a non-positive dim or overflows: numel()
// is noexcept and cannot report errors, and 0 makes any later size comparison fail safely.
std::size_t shape_numel(const Shape& shape) noexcept {
  if (shape.empty()) return 0;
  std::size_t count = 1;
  for (std::int64_t dim : shape) {
    if (dim <= 0) return 0;
    const auto udim = static_cast<std::uint64_t>(dim);
    if (udim > SIZE_MAX || count > SIZE_MAX / static_cast<std::size_t>(udim)) return 0;
    count *= static_cast<std::size_t>(udim);
  }
  return count;
}

// A byte-count mismatch names both numbers so the caller can tell a wrong dtype from a wrong shape.
Error size_mismatch(const Shape& shape, DType dtype, std::size_t expected, std::size_t actual) {
  return Error(ErrorCode::kInvalidArgument, "tensor " + shape_to_string(shape) + " of " +
                                                std::string(dtype_name(dtype)) + " needs " +
                                                std::to_string(expected) + " bytes but got " +
                                                std::to_string(actual));
}

}  // namespace

Result<void> TensorView::validate() const {
  RVAE_ASSIGN_OR_RETURN(std::size_t expected, checked_byte_size(shape, dtype));
  if (size_bytes != expected) return size_mismatch(shape, dtype, expected, size_bytes);
  if (data == nullptr) {
    return Error(ErrorCode::kInvalidArgument,
                 "tensor view " + shape_to_string(shape) + " has a null data pointer");
  }
  return {};
}

std::size_t TensorView::numel() const noexcept {
  return shape_numel(shape);
}

Result<Tensor> Tensor::from_bytes(Shape shape, DType dtype, Bytes bytes) {
  RVAE_ASSIGN_OR_RETURN(std::size_t expected, checked_byte_size(shape, dtype));
  if (bytes.size() != expected) return size_mismatch(shape, dtype, expected, bytes.size());
  return Tensor(std::move(shape), dtype, std::move(bytes));
}

Result<Tensor> Tensor::zeros(Shape shape, DType dtype) {
  RVAE_ASSIGN_OR_RETURN(std::size_t size, checked_byte_size(shape, dtype));
  // The size is legal but may still exceed memory; a library must not throw, so report it.
  try {
    Bytes bytes(size);
    return Tensor(std::move(shape), dtype, std::move(bytes));
  } catch (const std::exception&) {  // std::bad_alloc, or std::length_error past max_size().
    return Error(ErrorCode::kResourceExhausted, "cannot allocate " + std::to_string(size) +
                                                    " bytes for tensor " + shape_to_string(shape));
  }
}

Result<Tensor> Tensor::copy_of(const TensorView& view) {
  RVAE_TRY(view.validate());
  Result<Tensor> tensor = zeros(view.shape, view.dtype);
  if (!tensor) return tensor;
  std::memcpy(tensor->data(), view.data, view.size_bytes);
  return tensor;
}

Result<Tensor> Tensor::from_floats(Shape shape, const std::vector<float>& values) {
  RVAE_ASSIGN_OR_RETURN(std::size_t size, checked_byte_size(shape, DType::kFloat32));
  const std::size_t count = size / sizeof(float);
  if (values.size() != count) {
    return Error(ErrorCode::kInvalidArgument, "tensor " + shape_to_string(shape) + " has " +
                                                  std::to_string(count) + " elements but got " +
                                                  std::to_string(values.size()) + " values");
  }
  Result<Tensor> tensor = zeros(std::move(shape), DType::kFloat32);
  if (!tensor) return tensor;
  std::memcpy(tensor->data(), values.data(), size);
  return tensor;
}

std::size_t Tensor::numel() const noexcept {
  return shape_numel(shape_);
}

TensorView Tensor::view() const {
  return TensorView{bytes_.data(), bytes_.size(), shape_, dtype_};
}

Bytes Tensor::release_bytes() && noexcept {
  Bytes out = std::move(bytes_);
  bytes_.clear();
  shape_.clear();
  return out;
}

std::vector<float> Tensor::to_floats() const {
  const std::size_t count = bytes_.size() / dtype_size(dtype_);
  std::vector<float> out(count);
  internal::load_floats(bytes_.data(), dtype_, 0, count, out.data());
  return out;
}

}  // namespace rvae
