// The NumPy .npy format: magic "\x93NUMPY", version, header length, then a Python dict literal
// {'descr': ..., 'fortran_order': ..., 'shape': (...), } and the raw C-order array body. The
// header is read by a small recursive-descent parser for exactly that literal grammar.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "core/try.hpp"
#include "rvae/error.hpp"
#include "rvae/latent_file.hpp"
#include "rvae/tensor.hpp"

namespace rvae {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;
// Real headers are under 200 bytes; this bounds the work a hostile 4 GiB header length can ask.
constexpr std::size_t kMaxHeaderBytes = 1 << 20;
// numpy pads the header so the body starts at a multiple of this.
constexpr std::size_t kAlign = 64;

Error invalid(const std::string& message) {
  return Error(ErrorCode::kInvalidArgument, message);
}

// Header text comes from an untrusted file; keep messages printable and bounded.
std::string printable(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < 40; ++i) {
    const auto u = static_cast<unsigned char>(text[i]);
    out += (u >= 0x20 && u < 0x7f) ? text[i] : '?';
  }
  if (text.size() > 40) out += "...";
  return out;
}

std::string tuple_text(const Shape& shape) {
  std::string out = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i != 0) out += ", ";
    out += std::to_string(shape[i]);
  }
  if (shape.size() == 1) out += ',';
  return out + ")";
}

// What the header says.
struct Header {
  std::string descr;
  bool fortran_order = false;
  Shape shape;
};

// Reads the dict literal numpy writes with repr(): string keys, and values that are strings,
// True/False, or tuples of integers (Python 2 files may suffix them with L). Keys in any order,
// a trailing comma and any whitespace are accepted, as numpy's own reader accepts them.
class HeaderParser {
 public:
  explicit HeaderParser(std::string_view text) : text_(text) {}

  Result<Header> parse() {
    Header header;
    bool seen_descr = false;
    bool seen_order = false;
    bool seen_shape = false;
    skip_space();
    if (!take('{')) return fail("does not start with '{'");
    for (;;) {
      skip_space();
      if (take('}')) break;
      RVAE_ASSIGN_OR_RETURN(auto key, read_string());
      skip_space();
      if (!take(':')) return fail("expects ':' after the key '" + printable(key) + "'");
      skip_space();
      if (key == "descr") {
        if (seen_descr) return fail("has the key 'descr' twice");
        seen_descr = true;
        if (peek() == '[')
          return invalid(".npy structured dtypes (a descr list) are not supported");
        RVAE_ASSIGN_OR_RETURN(header.descr, read_string());
      } else if (key == "fortran_order") {
        if (seen_order) return fail("has the key 'fortran_order' twice");
        seen_order = true;
        if (take_word("True")) {
          header.fortran_order = true;
        } else if (take_word("False")) {
          header.fortran_order = false;
        } else {
          return fail("has a 'fortran_order' that is not True or False");
        }
      } else if (key == "shape") {
        if (seen_shape) return fail("has the key 'shape' twice");
        seen_shape = true;
        RVAE_ASSIGN_OR_RETURN(header.shape, read_tuple());
      } else {
        return fail("has an unexpected key '" + printable(key) + "'");
      }
      skip_space();
      if (take(',')) continue;
      if (take('}')) break;
      return fail("expects ',' or '}' at byte " + std::to_string(pos_));
    }
    skip_space();
    if (pos_ != text_.size()) return fail("has text after the closing '}'");
    if (!seen_descr || !seen_order || !seen_shape) {
      return fail("lacks one of the keys 'descr', 'fortran_order', 'shape'");
    }
    return header;
  }

 private:
  static Error fail(const std::string& what) { return invalid(".npy header " + what); }

  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool take(char c) {
    if (pos_ >= text_.size() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  bool take_word(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  // 'text' or "text"; repr() needs no escapes for the values numpy writes.
  Result<std::string> read_string() {
    const char quote = peek();
    if (quote != '\'' && quote != '"') {
      return fail("expects a quoted string at byte " + std::to_string(pos_));
    }
    ++pos_;
    const std::size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] == '\\' || text_[pos_] == '\n') {
        return fail("has an escape or line break inside a string");
      }
      ++pos_;
    }
    if (pos_ == text_.size()) return fail("has an unterminated string");
    std::string out(text_.substr(start, pos_ - start));
    ++pos_;
    return out;
  }

  Result<std::int64_t> read_int() {
    const bool negative = take('-');
    if (peek() < '0' || peek() > '9') {
      return fail("expects an integer in 'shape' at byte " + std::to_string(pos_));
    }
    std::int64_t value = 0;
    while (peek() >= '0' && peek() <= '9') {
      const int digit = peek() - '0';
      if (value > (std::numeric_limits<std::int64_t>::max() - digit) / 10) {
        return invalid(".npy shape has a dimension too large for 64 bits");
      }
      value = value * 10 + digit;
      ++pos_;
    }
    take('L');
    if (negative) return invalid(".npy shape has a negative dimension -" + std::to_string(value));
    return value;
  }

  Result<Shape> read_tuple() {
    // "(5)" is the int 5 in Python, not a tuple; numpy itself rejects it.
    if (!take('(')) return fail("has a 'shape' that is not a tuple");
    Shape shape;
    skip_space();
    if (take(')')) return shape;
    for (;;) {
      if (shape.size() == kMaxDims) {
        return invalid(".npy shape has more than " + std::to_string(kMaxDims) +
                       " dimensions; rvae supports 1 to " + std::to_string(kMaxDims));
      }
      RVAE_ASSIGN_OR_RETURN(auto dim, read_int());
      shape.push_back(dim);
      skip_space();
      const bool comma = take(',');
      skip_space();
      if (take(')')) {
        if (shape.size() == 1 && !comma) return fail("has a 'shape' that is not a tuple");
        return shape;
      }
      if (!comma) return fail("expects ',' or ')' in 'shape' at byte " + std::to_string(pos_));
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// How the file stores its elements and what rvae makes of them.
struct ElementFormat {
  DType dtype;         // The tensor rvae returns.
  std::size_t stored;  // Bytes per element in the file.
};

Result<ElementFormat> element_format(const std::string& descr) {
  if (descr == "<f4") return ElementFormat{DType::kFloat32, 4};
  if (descr == "<f2") return ElementFormat{DType::kFloat16, 2};
  if (descr == "|u1" || descr == "<u1") return ElementFormat{DType::kUInt8, 1};
  if (descr == "<f8") return ElementFormat{DType::kFloat32, 8};
  if (descr.size() >= 2 && descr[1] == 'O') {
    return invalid(".npy object arrays (descr '" + printable(descr) + "') are not supported");
  }
  if (!descr.empty() && descr[0] == '>') {
    return invalid(".npy big-endian dtype '" + printable(descr) +
                   "' is not supported; save it little-endian (e.g. astype('<f4'))");
  }
  return invalid(".npy dtype '" + printable(descr) +
                 "' is not supported (use '<f4', '<f2', '|u1' or '<f8')");
}

// The '<f8' case: narrow to float32 (round to nearest; out-of-range values become +-inf).
Bytes narrow_float64(const std::uint8_t* src, std::size_t numel) {
  Bytes out(numel * sizeof(float));
  for (std::size_t i = 0; i < numel; ++i) {
    std::uint64_t bits = 0;
    for (std::size_t b = 8; b-- > 0;)
      bits = (bits << 8) | src[i * 8 + b];
    double value = 0;
    std::memcpy(&value, &bits, sizeof value);
    const auto narrowed = static_cast<float>(value);
    std::memcpy(out.data() + i * sizeof(float), &narrowed, sizeof narrowed);
  }
  return out;
}

}  // namespace

Result<Tensor> parse_npy(const std::uint8_t* data, std::size_t size) {
  if (data == nullptr && size != 0) return invalid(".npy buffer is null");
  if (size < kMagicSize + 2) {
    return Error(ErrorCode::kDataLoss,
                 ".npy file is " + std::to_string(size) + " bytes, too short for its preamble");
  }
  if (std::memcmp(data, kMagic, kMagicSize) != 0) {
    return invalid("not a .npy file (no \\x93NUMPY magic)");
  }
  const int major = data[6];
  const int minor = data[7];
  if ((major != 1 && major != 2 && major != 3) || minor != 0) {
    return invalid(".npy format version " + std::to_string(major) + "." + std::to_string(minor) +
                   " is not supported (1.0, 2.0, 3.0)");
  }
  const std::size_t length_bytes = major == 1 ? 2 : 4;
  const std::size_t prefix = kMagicSize + 2 + length_bytes;
  if (size < prefix) {
    return Error(ErrorCode::kDataLoss, ".npy file is " + std::to_string(size) +
                                           " bytes, too short for its header length");
  }
  std::size_t header_size = 0;
  for (std::size_t i = length_bytes; i-- > 0;) {
    header_size = (header_size << 8) | data[kMagicSize + 2 + i];
  }
  if (header_size > size - prefix) {
    return Error(ErrorCode::kDataLoss, ".npy file is " + std::to_string(size) +
                                           " bytes, header needs " +
                                           std::to_string(prefix + header_size));
  }
  if (header_size > kMaxHeaderBytes) {
    return invalid(".npy header length " + std::to_string(header_size) + " exceeds the limit of " +
                   std::to_string(kMaxHeaderBytes) + " bytes");
  }
  const std::string_view text(reinterpret_cast<const char*>(data + prefix), header_size);
  RVAE_ASSIGN_OR_RETURN(auto header, HeaderParser(text).parse());

  RVAE_ASSIGN_OR_RETURN(auto format, element_format(header.descr));
  if (header.fortran_order) {
    return invalid(
        ".npy Fortran order (fortran_order: True) is not supported; save a C-order "
        "array (np.ascontiguousarray)");
  }
  if (header.shape.empty()) {
    return invalid(".npy array is a scalar (shape ()); rvae needs 1 to " +
                   std::to_string(kMaxDims) + " dimensions");
  }
  std::size_t numel = 1;
  for (const std::int64_t dim : header.shape) {
    if (dim == 0) {
      return invalid(".npy shape " + tuple_text(header.shape) +
                     " has no elements; rvae does not support empty arrays");
    }
    // dim > 0 here: read_int rejects negative values.
    const auto udim = static_cast<std::uint64_t>(dim);
    if (udim > std::numeric_limits<std::size_t>::max() / format.stored / numel) {
      return invalid(".npy shape " + tuple_text(header.shape) + " overflows the byte count");
    }
    numel *= static_cast<std::size_t>(udim);
  }
  const std::size_t need = numel * format.stored;
  const std::size_t body = size - prefix - header_size;
  if (body < need) {
    return Error(ErrorCode::kDataLoss, ".npy body is " + std::to_string(body) + " bytes, shape " +
                                           tuple_text(header.shape) + " of '" + header.descr +
                                           "' needs " + std::to_string(need));
  }
  if (body > need) {
    return invalid(".npy body is " + std::to_string(body) + " bytes, shape " +
                   tuple_text(header.shape) + " of '" + header.descr + "' needs only " +
                   std::to_string(need) + " (trailing bytes)");
  }

  const std::uint8_t* first = data + prefix + header_size;
  Bytes bytes = format.stored == dtype_size(format.dtype) ? Bytes(first, first + need)
                                                          : narrow_float64(first, numel);
  return Tensor::from_bytes(std::move(header.shape), format.dtype, std::move(bytes));
}

Result<Tensor> read_npy(const std::string& path) {
  RVAE_ASSIGN_OR_RETURN(auto bytes, read_file(path));
  auto parsed = parse_npy(bytes.data(), bytes.size());
  if (!parsed) {
    Error error = std::move(parsed).error();
    return Error(error.code(), "'" + path + "': " + error.message());
  }
  return parsed;
}

Result<Bytes> serialize_npy(const TensorView& tensor) {
  // Also rejects null data and dtype values outside the enum, so the switch below is total.
  RVAE_TRY(tensor.validate());
  std::string descr;
  switch (tensor.dtype) {
    case DType::kFloat32:
      descr = "<f4";
      break;
    case DType::kFloat16:
      descr = "<f2";
      break;
    case DType::kUInt8:
      descr = "|u1";
      break;
    case DType::kBFloat16:
      return invalid(
          ".npy has no bfloat16 dtype; convert the tensor to float32 first, or write "
          "safetensors");
  }

  // The text numpy's repr-based writer produces. At most kMaxDims 64-bit dims keep it far below
  // 64 KiB, so format 1.0 (u16 header length) always suffices; numpy uses 2.0 only past that.
  std::string header = "{'descr': '" + descr +
                       "', 'fortran_order': False, 'shape': " + tuple_text(tensor.shape) + ", }";
  constexpr std::size_t kPrefix = kMagicSize + 2 + 2;
  // Spaces, then a final newline, so the body starts on a kAlign boundary (as numpy pads).
  const std::size_t unpadded = kPrefix + header.size() + 1;
  header.append(kAlign - unpadded % kAlign, ' ');
  header += '\n';

  if (tensor.size_bytes > std::numeric_limits<std::size_t>::max() - kPrefix - header.size()) {
    return Error(ErrorCode::kResourceExhausted, "tensor is too large to serialise in memory");
  }
  Bytes out;
  out.reserve(kPrefix + header.size() + tensor.size_bytes);
  out.insert(out.end(), kMagic, kMagic + kMagicSize);
  out.push_back(1);  // Format 1.0.
  out.push_back(0);
  out.push_back(static_cast<std::uint8_t>(header.size() & 0xFF));
  out.push_back(static_cast<std::uint8_t>(header.size() >> 8));
  out.insert(out.end(), header.begin(), header.end());
  const auto* first = static_cast<const std::uint8_t*>(tensor.data);
  out.insert(out.end(), first, first + tensor.size_bytes);
  return out;
}

Result<void> write_npy(const std::string& path, const TensorView& tensor) {
  RVAE_ASSIGN_OR_RETURN(auto bytes, serialize_npy(tensor));
  return write_file(path, bytes.data(), bytes.size());
}

}  // namespace rvae
