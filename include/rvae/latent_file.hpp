// Reading and writing latents as safetensors and NumPy .npy files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "rvae/bytes.hpp"
#include "rvae/error.hpp"
#include "rvae/export.h"
#include "rvae/tensor.hpp"

namespace rvae {

/// One tensor of a safetensors file, with its name.
struct NamedTensor {
  std::string name;
  Tensor tensor;
};

/// Parses a safetensors file held in memory. Dtypes F32, F16, BF16 and U8 are accepted; the
/// header is checked against the buffer size (offsets in range, contiguous, no overlap, each
/// length equal to product(shape) * element size). Tensors come back in file-offset order; the
/// `__metadata__` entry is skipped. Errors: InvalidArgument for malformed or unsupported
/// content, DataLoss when the buffer is shorter than the header says.
RVAE_API Result<std::vector<NamedTensor>> parse_safetensors(const std::uint8_t* data,
                                                            std::size_t size);
/// Reads and parses a safetensors file. File errors as read_file gives them.
RVAE_API Result<std::vector<NamedTensor>> read_safetensors(const std::string& path);
/// Serialises tensors (names unique and non-empty) in the given order.
RVAE_API Result<Bytes> serialize_safetensors(
    const std::vector<std::pair<std::string, TensorView>>& tensors);
/// Writes a safetensors file (to a temporary name, then renamed, so no half file is left).
RVAE_API Result<void> write_safetensors(
    const std::string& path, const std::vector<std::pair<std::string, TensorView>>& tensors);

/// Parses a NumPy .npy file (format 1.0, 2.0 or 3.0) held in memory: little-endian or
/// byte-order-free dtypes '<f4', '<f2', '|u1' (and '<f8', narrowed to float32); C order only.
/// Fortran order, object arrays, big-endian data and other dtypes give InvalidArgument;
/// a short body gives DataLoss.
RVAE_API Result<Tensor> parse_npy(const std::uint8_t* data, std::size_t size);
/// Reads and parses a .npy file. File errors as read_file gives them.
RVAE_API Result<Tensor> read_npy(const std::string& path);
/// Serialises to .npy format 1.0 (2.0 when the header needs it). bfloat16 has no NumPy dtype
/// and gives InvalidArgument: convert it first.
RVAE_API Result<Bytes> serialize_npy(const TensorView& tensor);
/// Writes a .npy file (to a temporary name, then renamed).
RVAE_API Result<void> write_npy(const std::string& path, const TensorView& tensor);

/// Reads a whole file (a pipe or device too, until end of file). NotFound when it or its
/// directory is missing; PermissionDenied when it may not be read; InvalidArgument for a
/// directory; ResourceExhausted when it is larger than `max_bytes` (a regular file's size is
/// checked before allocating); DataLoss when the device fails. Messages name the file.
RVAE_API Result<Bytes> read_file(const std::string& path, std::size_t max_bytes = SIZE_MAX);
/// Writes a whole file atomically and durably: a hidden temporary beside `path`, flushed to the
/// disk, then renamed over it; on failure `path` is as before and no temporary is left. NotFound
/// when the directory is missing; PermissionDenied when it is not writable; ResourceExhausted
/// when the disk or a quota is full; InvalidArgument for a directory in the way.
RVAE_API Result<void> write_file(const std::string& path, const std::uint8_t* data,
                                 std::size_t size);

/// The error read_file and write_file give when a system call on `path` fails with errno
/// `error` during `action` ("write", "open", ...): "cannot <action> '<path>': <the system's
/// text>", coded as above, for programs that do their own file I/O and report it alike.
RVAE_API Error file_error(int error, const std::string& action, const std::string& path);

}  // namespace rvae
