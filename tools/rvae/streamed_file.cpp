#include "streamed_file.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <nlohmann/json.hpp>
#include <vector>

#include "rvae/error.hpp"

namespace rvae::cli {
namespace {

const char* npy_descr(DType dtype) {
  switch (dtype) {
    case DType::kFloat16:
      return "<f2";
    case DType::kUInt8:
      return "|u1";
    case DType::kFloat32:
    case DType::kBFloat16:
      return "<f4";
  }
  return "<f4";
}

const char* safetensors_code(DType dtype) {
  switch (dtype) {
    case DType::kFloat16:
      return "F16";
    case DType::kBFloat16:
      return "BF16";
    case DType::kUInt8:
      return "U8";
    case DType::kFloat32:
      return "F32";
  }
  return "F32";
}

std::uint64_t element_count(const Shape& shape) {
  std::uint64_t count = 1;
  for (const std::int64_t dim : shape)
    count *= static_cast<std::uint64_t>(dim);
  return count;
}

// The dtypes a float reply of unknown dtype may come in (rvae::ReplyLayout::dtype).
constexpr DType kFloatDTypes[] = {DType::kFloat16, DType::kBFloat16, DType::kFloat32};

Error mismatch(const std::string& path, const std::string& what) {
  return Error(ErrorCode::kDataLoss, "cannot write '" + path + "': " + what);
}

}  // namespace

std::string npy_prefix(const Shape& shape, DType dtype) {
  std::string tuple = "(";
  for (std::size_t i = 0; i < shape.size(); ++i)
    tuple += (i ? ", " : "") + std::to_string(shape[i]);
  tuple += shape.size() == 1 ? ",)" : ")";
  std::string header = std::string("{'descr': '") + npy_descr(dtype) +
                       "', 'fortran_order': False, 'shape': " + tuple + ", }";
  // numpy pads with spaces and a final newline so the body starts on a 64-byte boundary.
  constexpr std::size_t kPrefix = 6 + 2 + 2;
  header.append(64 - (kPrefix + header.size() + 1) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xFF);
  out += static_cast<char>(header.size() >> 8);
  return out + header;
}

std::string safetensors_prefix(const std::string& name, const Shape& shape, DType dtype,
                               std::size_t min_size) {
  const std::uint64_t bytes = element_count(shape) * dtype_size(dtype);
  nlohmann::ordered_json header;
  header[name] = {{"dtype", safetensors_code(dtype)},
                  {"shape", shape},
                  {"data_offsets", {std::uint64_t{0}, bytes}}};
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  if (8 + text.size() < min_size) text.append(min_size - 8 - text.size(), ' ');
  std::string out;
  for (int i = 0; i < 8; ++i)
    out += static_cast<char>((static_cast<std::uint64_t>(text.size()) >> (8 * i)) & 0xFF);
  return out + text;
}

StreamedFile::StreamedFile(const std::string& path, StreamedFormat format,
                           const ReplyLayout& expected, std::string name)
    : file_(path), format_(format), expected_(expected), name_(std::move(name)) {
  // The body's place is fixed before its first byte: the largest header any dtype the reply
  // may come in needs (only the layout's dtype when it names one).
  std::vector<DType> candidates(std::begin(kFloatDTypes), std::end(kFloatDTypes));
  if (expected_.dtype) candidates = {*expected_.dtype};
  for (const DType dtype : candidates) {
    const std::size_t size = format_ == StreamedFormat::kNpy
                                 ? npy_prefix(expected_.shape, dtype).size()
                             : format_ == StreamedFormat::kSafetensors
                                 ? safetensors_prefix(name_, expected_.shape, dtype).size()
                                 : 0;
    data_offset_ = std::max<std::uint64_t>(data_offset_, size);
  }
}

void StreamedFile::write(const ReplyChunk& chunk) {
  file_.write_at(data_offset_ + chunk.offset, chunk.data, chunk.size);
  bytes_.fetch_add(chunk.size, std::memory_order_relaxed);
}

std::uint64_t StreamedFile::finish(const ReplyLayout& received) {
  const std::uint64_t body = bytes_.load();
  if (format_ == StreamedFormat::kRaw) {
    file_.commit();
    return body;
  }
  if (!received.dtype || received.shape != expected_.shape) {
    throw mismatch(file_.path(), "the reply's shape " + shape_to_string(received.shape) +
                                     " is not the announced " + shape_to_string(expected_.shape));
  }
  const DType dtype = *received.dtype;
  const std::uint64_t elements = element_count(received.shape);
  if (body != elements * dtype_size(dtype)) {
    throw mismatch(file_.path(), "received " + std::to_string(body) + " bytes of a " +
                                     std::to_string(elements * dtype_size(dtype)) + "-byte tensor");
  }
  std::string prefix;
  if (format_ == StreamedFormat::kNpy) {
    prefix = npy_prefix(received.shape, dtype);
    if (dtype == DType::kBFloat16) widen_bfloat16(elements);
  } else {
    prefix =
        safetensors_prefix(name_, received.shape, dtype, static_cast<std::size_t>(data_offset_));
  }
  if (prefix.size() != data_offset_) {
    throw mismatch(file_.path(), "the header does not fit the room kept for it");
  }
  file_.write_at(0, reinterpret_cast<const std::uint8_t*>(prefix.data()), prefix.size());
  file_.commit();
  return data_offset_ +
         (dtype == DType::kBFloat16 && format_ == StreamedFormat::kNpy ? elements * 4 : body);
}

// .npy has no bfloat16: the body is widened to float32 in place, exactly (bfloat16 is float32's
// upper half), from the end so that nothing is overwritten before it is read; a block at a time.
void StreamedFile::widen_bfloat16(std::uint64_t elements) {
  constexpr std::uint64_t kBlock = std::uint64_t{1} << 20;  // Elements per pass.
  std::vector<std::uint8_t> narrow;
  std::vector<std::uint8_t> wide;
  std::uint64_t end = elements;
  while (end > 0) {
    const std::uint64_t begin = end > kBlock ? end - kBlock : 0;
    const std::size_t count = static_cast<std::size_t>(end - begin);
    narrow.resize(count * 2);
    wide.resize(count * 4);
    file_.read_at(data_offset_ + begin * 2, narrow.data(), narrow.size());
    for (std::size_t i = 0; i < count; ++i) {
      wide[i * 4 + 0] = 0;
      wide[i * 4 + 1] = 0;
      wide[i * 4 + 2] = narrow[i * 2 + 0];
      wide[i * 4 + 3] = narrow[i * 2 + 1];
    }
    file_.write_at(data_offset_ + begin * 4, wide.data(), wide.size());
    end = begin;
  }
}

}  // namespace rvae::cli
