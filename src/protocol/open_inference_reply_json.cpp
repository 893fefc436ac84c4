// The JSON of an inference reply, read with nlohmann's SAX interface: the structure once
// (names, datatypes, shapes, binary sizes), then, when the wanted output is in the JSON form,
// its `data` straight into the typed buffer. Neither pass keeps a `data` array.
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <new>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocol/open_inference_internal.hpp"
#include "protocol/protocol_internal.hpp"

namespace rvae::protocol::oip::internal {
namespace {

using json = nlohmann::json;

// Where a value sits in the reply; everything else is skipped.
enum class Frame : std::uint8_t { kRoot, kOutputs, kOutput, kShape, kParams, kData, kSkip };

// Keys that may appear once per object (a second one would make the reply ambiguous).
constexpr unsigned kKeyOutputs = 1;
constexpr unsigned kKeyName = 2;
constexpr unsigned kKeyDatatype = 4;
constexpr unsigned kKeyShape = 8;
constexpr unsigned kKeyParameters = 16;
constexpr unsigned kKeyData = 32;
constexpr unsigned kKeyBinarySize = 64;
constexpr unsigned kKeyError = 128;

struct Level {
  Frame frame;
  std::string key;  // The last key read in an object frame.
  unsigned seen = 0;
  std::size_t data_depth = 0;  // Nesting inside a `data` array.
};

// Fits `value` into `dtype` at element `index` of dst; false when it does not fit.
bool store_number(double value, DType dtype, std::uint8_t* dst, std::size_t index) {
  if (!std::isfinite(value)) return false;
  // Values just past FLT_MAX still round to it; from the midpoint to the next power on they
  // would be Inf (and the conversion undefined).
  constexpr double kFloatOverflow = 340282356779733661637539395458142568448.0;  // 2^128 - 2^103
  if (std::fabs(value) >= kFloatOverflow) return false;
  constexpr float kMax = std::numeric_limits<float>::max();
  const float f = std::fabs(value) > static_cast<double>(kMax) ? (value > 0 ? kMax : -kMax)
                                                               : static_cast<float>(value);
  switch (dtype) {
    case DType::kFloat32:
      std::memcpy(dst + index * 4, &f, 4);
      return true;
    case DType::kFloat16: {
      const std::uint16_t bits = float32_to_float16(f);
      if ((bits & 0x7FFFu) == 0x7C00u) return false;
      std::memcpy(dst + index * 2, &bits, 2);
      return true;
    }
    case DType::kBFloat16: {
      const std::uint16_t bits = float32_to_bfloat16(f);
      if ((bits & 0x7FFFu) == 0x7F80u) return false;
      std::memcpy(dst + index * 2, &bits, 2);
      return true;
    }
    case DType::kUInt8:
      return false;  // Integers only, handled by the caller.
  }
  return false;
}

class ReplyHandler : public nlohmann::json_sax<json> {
 public:
  // Structure pass: `out` is filled. Data pass: `target` is the output whose data is read.
  explicit ReplyHandler(ReplyJson* out) : out_(out) {}
  ReplyHandler(std::size_t target, std::string_view target_name, DType dtype, std::size_t numel,
               std::uint8_t* dst)
      : data_mode_(true),
        target_(target),
        target_name_(target_name),
        dtype_(dtype),
        numel_(numel),
        dst_(dst) {}

  const std::string& error() const { return error_; }
  std::size_t count() const { return count_; }

  bool null() override { return scalar(Scalar::kNull); }
  bool boolean(bool) override { return scalar(Scalar::kOther); }
  bool number_integer(number_integer_t value) override {
    integer_ = value;
    is_signed_integer_ = true;
    return scalar(Scalar::kInteger);
  }
  bool number_unsigned(number_unsigned_t value) override {
    unsigned_ = value;
    is_signed_integer_ = false;
    return scalar(Scalar::kInteger);
  }
  bool number_float(number_float_t value, const string_t&) override {
    float_ = value;
    return scalar(Scalar::kFloat);
  }
  bool string(string_t& value) override {
    string_ = &value;
    return scalar(Scalar::kString);
  }
  bool binary(binary_t&) override { return fail("holds binary JSON"); }

  bool start_object(std::size_t) override { return open(false); }
  bool start_array(std::size_t) override { return open(true); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }

  bool key(string_t& key) override {
    Level& level = stack_.back();
    level.key = key;
    unsigned bit = 0;
    switch (level.frame) {
      case Frame::kRoot:
        bit = key == "outputs" ? kKeyOutputs : key == "error" ? kKeyError : 0u;
        break;
      case Frame::kOutput:
        bit = key == "name"         ? kKeyName
              : key == "datatype"   ? kKeyDatatype
              : key == "shape"      ? kKeyShape
              : key == "parameters" ? kKeyParameters
              : key == "data"       ? kKeyData
                                    : 0u;
        break;
      case Frame::kParams:
        bit = key == "binary_data_size" ? kKeyBinarySize : 0u;
        break;
      default:
        break;
    }
    if (bit != 0) {
      if ((level.seen & bit) != 0) return fail("has the key " + in_quotes(key) + " twice");
      level.seen |= bit;
    }
    return true;
  }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& e) override {
    std::string message = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix; keep the cause.
    if (const auto end = message.find("] ");
        message.rfind("[json.exception", 0) == 0 && end != std::string::npos) {
      message.erase(0, end + 2);
    }
    error_ = "is not valid JSON (at byte " + std::to_string(position) +
             "): " + protocol::internal::clean_text(message, 160);
    return false;
  }

 private:
  enum class Scalar { kNull, kInteger, kFloat, kString, kOther };

  bool fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }

  // The frame of a value about to start inside the current one.
  Result<Frame> child_frame(bool array) {
    if (stack_.empty()) {
      if (array) return Error(ErrorCode::kDataLoss, "is a JSON array, not an object");
      return Frame::kRoot;
    }
    const Level& parent = stack_.back();
    const std::string& key = parent.key;
    switch (parent.frame) {
      case Frame::kRoot:
        if (key == "outputs") {
          if (!array) return Error(ErrorCode::kDataLoss, "has `outputs` that is not an array");
          return Frame::kOutputs;
        }
        return Frame::kSkip;
      case Frame::kOutputs:
        if (array) return Error(ErrorCode::kDataLoss, "has an output that is not an object");
        return Frame::kOutput;
      case Frame::kOutput:
        if (key == "shape") {
          if (!array)
            return Error(ErrorCode::kDataLoss, "has an output shape that is not an array");
          return Frame::kShape;
        }
        if (key == "parameters") {
          if (array)
            return Error(ErrorCode::kDataLoss, "has output parameters that are not an object");
          return Frame::kParams;
        }
        if (key == "name" || key == "datatype") {
          return Error(ErrorCode::kDataLoss, "has an output " + key + " that is not a string");
        }
        if (key == "data") {
          if (!array) return Error(ErrorCode::kDataLoss, "has output data that is not an array");
          return data_mode_ && out_index_ == target_ ? Frame::kData : Frame::kSkip;
        }
        return Frame::kSkip;
      case Frame::kShape:
        return Error(ErrorCode::kDataLoss, "has an output shape that holds a non-integer");
      case Frame::kParams:
        if (key == "binary_data_size") {
          return Error(ErrorCode::kDataLoss, "has a binary_data_size that is not a number");
        }
        return Frame::kSkip;
      case Frame::kData:
        if (!array) return Error(ErrorCode::kDataLoss, bad_data_text("an object"));
        return Frame::kData;
      case Frame::kSkip:
        return Frame::kSkip;
    }
    return Frame::kSkip;
  }

  std::string bad_data_text(const std::string& what) const {
    return "has " + what + " in the data of output " + in_quotes(target_name_) + " (element " +
           std::to_string(count_) + ")";
  }

  bool open(bool array) {
    if (stack_.size() >= kMaxReplyDepth) {
      return fail("is nested deeper than " + std::to_string(kMaxReplyDepth) + " levels");
    }
    Result<Frame> frame = child_frame(array);
    if (!frame) return fail(frame.error().message());
    Level level{*frame, {}, 0, 0};
    if (*frame == Frame::kOutput) {
      if (!stack_.empty() && stack_.back().frame == Frame::kOutputs) {
        ++outputs_seen_;
        out_index_ = outputs_seen_ - 1;
      }
      if (!data_mode_) {
        if (out_->outputs.size() >= kMaxReplyOutputs) {
          return fail("has more than " + std::to_string(kMaxReplyOutputs) + " outputs");
        }
        out_->outputs.emplace_back();
      }
    } else if (*frame == Frame::kOutputs && !data_mode_) {
      out_->has_outputs = true;
    } else if (*frame == Frame::kShape && !data_mode_) {
      out_->outputs.back().has_shape = true;
    } else if (*frame == Frame::kParams && !data_mode_) {
      out_->outputs.back().has_parameters = true;
    } else if (*frame == Frame::kData) {
      level.data_depth = stack_.back().frame == Frame::kData ? stack_.back().data_depth + 1 : 1;
      if (level.data_depth > kMaxReplyRank) {
        return fail(bad_data_text("arrays nested deeper than " + std::to_string(kMaxReplyRank) +
                                  " levels"));
      }
    }
    if (!data_mode_ && !stack_.empty() && stack_.back().frame == Frame::kOutput &&
        stack_.back().key == "data") {
      out_->outputs.back().has_data = true;
    }
    stack_.push_back(std::move(level));
    return true;
  }

  bool close() {
    stack_.pop_back();
    return true;
  }

  bool scalar(Scalar kind) {
    if (stack_.empty()) return fail("is not a JSON object");
    const Level& level = stack_.back();
    switch (level.frame) {
      case Frame::kRoot:
        if (level.key == "outputs") return fail("has `outputs` that is not an array");
        if (level.key == "error" && kind == Scalar::kString && !data_mode_) {
          out_->error = protocol::internal::clean_text(*string_);
        }
        return true;
      case Frame::kOutputs:
        return fail("has an output that is not an object");
      case Frame::kOutput:
        return output_scalar(level.key, kind);
      case Frame::kShape:
        return shape_scalar(kind);
      case Frame::kParams:
        if (level.key != "binary_data_size") return true;
        if (kind != Scalar::kInteger || (is_signed_integer_ && integer_ < 0)) {
          return fail("has a binary_data_size that is not a non-negative integer");
        }
        if (!data_mode_) {
          out_->outputs.back().binary_data_size =
              is_signed_integer_ ? static_cast<std::uint64_t>(integer_) : unsigned_;
        }
        return true;
      case Frame::kData:
        return data_scalar(kind);
      case Frame::kSkip:
        return true;
    }
    return true;
  }

  bool output_scalar(const std::string& key, Scalar kind) {
    if (key == "name" || key == "datatype") {
      if (kind != Scalar::kString) return fail("has an output " + key + " that is not a string");
      if (string_->size() > kMaxReplyNameBytes) {
        return fail("has an output " + key + " longer than " + std::to_string(kMaxReplyNameBytes) +
                    " bytes");
      }
      if (!data_mode_)
        (key == "name" ? out_->outputs.back().name : out_->outputs.back().datatype) = *string_;
      return true;
    }
    if (key == "shape") return fail("has an output shape that is not an array");
    if (key == "parameters") {
      // null is what some servers write for "no parameters".
      return kind == Scalar::kNull ? true : fail("has output parameters that are not an object");
    }
    if (key == "data") {
      return fail("has output data that is not an array");
    }
    return true;
  }

  bool shape_scalar(Scalar kind) {
    if (kind != Scalar::kInteger) return fail("has an output shape that holds a non-integer");
    if (is_signed_integer_
            ? integer_ < 0
            : unsigned_ > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return fail("has an output shape with a negative or huge dimension");
    }
    if (data_mode_) return true;
    Shape& shape = out_->outputs.back().shape;
    if (shape.size() >= kMaxReplyRank) {
      return fail("has an output shape of more than " + std::to_string(kMaxReplyRank) +
                  " dimensions");
    }
    shape.push_back(is_signed_integer_ ? integer_ : static_cast<std::int64_t>(unsigned_));
    return true;
  }

  bool data_scalar(Scalar kind) {
    if (count_ >= numel_) {
      return fail("has more values than the " + std::to_string(numel_) +
                  " elements of its shape in the data of output " + in_quotes(target_name_));
    }
    if (dtype_ == DType::kUInt8) {
      if (kind != Scalar::kInteger) return fail(bad_data_text("a value that is not an integer"));
      const bool fits = is_signed_integer_ ? integer_ >= 0 && integer_ <= 255 : unsigned_ <= 255;
      if (!fits) return fail(bad_data_text("a value outside 0..255"));
      dst_[count_++] = static_cast<std::uint8_t>(
          is_signed_integer_ ? integer_ : static_cast<std::int64_t>(unsigned_));
      return true;
    }
    double value = 0.0;
    if (kind == Scalar::kInteger) {
      value = is_signed_integer_ ? static_cast<double>(integer_) : static_cast<double>(unsigned_);
    } else if (kind == Scalar::kFloat) {
      value = float_;
    } else {
      return fail(bad_data_text("a value that is not a number"));
    }
    if (!store_number(value, dtype_, dst_, count_)) {
      return fail(bad_data_text("a value out of range for " +
                                std::string(dtype_ == DType::kFloat32   ? "FP32"
                                            : dtype_ == DType::kFloat16 ? "FP16"
                                                                        : "BF16")));
    }
    ++count_;
    return true;
  }

  ReplyJson* out_ = nullptr;
  bool data_mode_ = false;
  std::size_t target_ = 0;
  std::string_view target_name_;
  DType dtype_ = DType::kFloat32;
  std::size_t numel_ = 0;
  std::uint8_t* dst_ = nullptr;
  std::size_t count_ = 0;

  std::string error_;
  std::vector<Level> stack_;
  std::size_t outputs_seen_ = 0;
  std::size_t out_index_ = 0;
  std::int64_t integer_ = 0;
  std::uint64_t unsigned_ = 0;
  bool is_signed_integer_ = false;
  double float_ = 0.0;
  string_t* string_ = nullptr;
};

// Runs the handler over `json`; the handler's own error, or nlohmann's, as DataLoss.
Result<void> run(std::string_view text, ReplyHandler& handler) {
  // nlohmann ends its input at a NUL byte, which JSON text never holds: whatever followed
  // would go unread.
  if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
    return Error(ErrorCode::kDataLoss,
                 "inference reply is not valid JSON: a NUL byte at byte " + std::to_string(nul));
  }
  bool ok = false;
  try {
    ok = json::sax_parse(text.begin(), text.end(), &handler, json::input_format_t::json, true,
                         false);
  } catch (const std::bad_alloc&) {
    return Error(ErrorCode::kResourceExhausted, "out of memory reading the inference reply");
  } catch (const std::exception& e) {
    return Error(ErrorCode::kDataLoss, "inference reply is not valid JSON: " +
                                           protocol::internal::clean_text(e.what(), 160));
  }
  if (!ok) {
    return Error(ErrorCode::kDataLoss,
                 "inference reply " + (handler.error().empty() ? std::string("is not valid JSON")
                                                               : handler.error()));
  }
  return {};
}

}  // namespace

Result<ReplyJson> scan_reply_json(std::string_view text) {
  ReplyJson out;
  ReplyHandler handler(&out);
  if (Result<void> ok = run(text, handler); !ok) return std::move(ok).error();
  return out;
}

Result<void> read_json_data(std::string_view text, std::size_t output_index,
                            std::string_view output_name, DType dtype, std::size_t numel,
                            std::uint8_t* dst) {
  ReplyHandler handler(output_index, output_name, dtype, numel, dst);
  if (Result<void> ok = run(text, handler); !ok) return std::move(ok).error();
  if (handler.count() != numel) {
    return Error(ErrorCode::kDataLoss, "inference reply's output " + in_quotes(output_name) +
                                           " holds " + std::to_string(handler.count()) +
                                           " values; its shape has " + std::to_string(numel) +
                                           " elements");
  }
  return {};
}

std::string in_quotes(std::string_view text) {
  return "'" + protocol::internal::clean_text(text, 80) + "'";
}

std::string dims_text(const Shape& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

}  // namespace rvae::protocol::oip::internal
