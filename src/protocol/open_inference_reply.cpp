// An inference reply: status, the binary form's header length, the output found by name and
// checked against what was asked, its bytes taken from the body where they lie.
#include <cstring>
#include <limits>
#include <string>

#include "core/try.hpp"
#include "protocol/open_inference.hpp"
#include "protocol/open_inference_internal.hpp"
#include "protocol/protocol_internal.hpp"

namespace rvae::protocol::oip {
namespace {

using internal::dims_text;
using internal::in_quotes;
using internal::ReplyJson;
using internal::ReplyOutput;
using protocol::internal::data_loss;

constexpr std::string_view kHeaderLength = "Inference-Header-Content-Length";

Error too_large(std::string message) {
  return Error(ErrorCode::kResourceExhausted, std::move(message));
}

// The header's value: decimal digits only (optional surrounding blanks), no overflow.
Result<std::size_t> parse_header_length(const std::string& text) {
  std::size_t begin = 0;
  std::size_t end = text.size();
  while (begin < end && (text[begin] == ' ' || text[begin] == '\t'))
    ++begin;
  while (end > begin && (text[end - 1] == ' ' || text[end - 1] == '\t'))
    --end;
  if (begin == end)
    return data_loss("inference reply's " + std::string(kHeaderLength) + " is empty");
  std::size_t value = 0;
  for (std::size_t i = begin; i < end; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') {
      return data_loss("inference reply's " + std::string(kHeaderLength) + " " + in_quotes(text) +
                       " is not a number");
    }
    const auto digit = static_cast<std::size_t>(c - '0');
    if (value > (std::numeric_limits<std::size_t>::max() - digit) / 10) {
      return too_large("inference reply's " + std::string(kHeaderLength) + " " + in_quotes(text) +
                       " is out of range");
    }
    value = value * 10 + digit;
  }
  return value;
}

std::string names_of(const ReplyJson& reply) {
  std::string names;
  for (const ReplyOutput& output : reply.outputs) {
    if (names.size() > 200) {
      names += ", ...";
      break;
    }
    if (!names.empty()) names += ", ";
    names += in_quotes(output.name);
  }
  return names.empty() ? "none" : names;
}

Result<std::size_t> find_output(const ReplyJson& reply, const std::string& name) {
  std::size_t found = reply.outputs.size();
  for (std::size_t i = 0; i < reply.outputs.size(); ++i) {
    if (reply.outputs[i].name != name) continue;
    if (found != reply.outputs.size()) {
      return data_loss("inference reply has the output " + in_quotes(name) + " twice");
    }
    found = i;
  }
  if (found != reply.outputs.size()) return found;
  if (reply.error) {
    return Error(ErrorCode::kDataLoss, "inference reply is an error, not a result")
        .with_server_message(*reply.error);
  }
  if (!reply.has_outputs) return data_loss("inference reply has no `outputs`");
  return data_loss("inference reply has no output named " + in_quotes(name) +
                   "; its outputs: " + names_of(reply));
}

Result<Shape> check_output(const ReplyOutput& output, const InferExpectation& expect) {
  const std::string_view want = datatype_name(expect.dtype);
  if (output.datatype != want) {
    return data_loss("inference reply's output " + in_quotes(output.name) + " is " +
                     in_quotes(output.datatype) + ", expected '" + std::string(want) + "'");
  }
  if (!output.has_shape) {
    return data_loss("inference reply's output " + in_quotes(output.name) + " has no shape");
  }
  bool matches = output.shape.size() == expect.shape.size();
  for (std::size_t i = 0; matches && i < output.shape.size(); ++i) {
    matches = output.shape[i] > 0 && (expect.shape[i] < 0 || expect.shape[i] == output.shape[i]);
  }
  if (!matches) {
    return data_loss("inference reply's output " + in_quotes(output.name) + " has shape " +
                     dims_text(output.shape) + ", expected " + dims_text(expect.shape));
  }
  return output.shape;
}

// Where each binary output's bytes start after the JSON; checks they add up to the body.
Result<std::size_t> binary_offset(const ReplyJson& reply, std::size_t index, std::size_t json_size,
                                  std::size_t body_size) {
  std::size_t total = 0;
  std::size_t offset = 0;
  for (std::size_t i = 0; i < reply.outputs.size(); ++i) {
    if (i == index) offset = total;
    const auto& size = reply.outputs[i].binary_data_size;
    if (!size) continue;
    if (*size > body_size || total > body_size - *size) {
      return data_loss("inference reply's binary outputs need more bytes than its " +
                       std::to_string(body_size) + "-byte body holds");
    }
    total += static_cast<std::size_t>(*size);
  }
  if (json_size + total != body_size) {
    return data_loss("inference reply's body is " + std::to_string(body_size) +
                     " bytes, but its JSON header (" + std::to_string(json_size) +
                     " bytes) and binary outputs (" + std::to_string(total) + " bytes) make " +
                     std::to_string(json_size + total));
  }
  return json_size + offset;
}

// `json_apart`: the binary form's JSON header when the receiver kept it apart from the body
// (which then starts with the bytes after it); null when the body is the whole reply.
Result<Tensor> parse_reply(http::HttpResponse&& response, const Bytes* json_apart,
                           const InferExpectation& expect, const InferReplyLimits& limits) {
  if (response.status != 200) return error_from_reply(response);
  Bytes& body = response.body;
  std::size_t json_size = body.size();
  const std::string* header = response.header(kHeaderLength);
  if (json_apart != nullptr && header == nullptr) {
    return Error(ErrorCode::kInternal, "internal: a split reply without its header length");
  }
  // In a split reply the body's bytes start where the JSON header ends.
  std::size_t body_start = 0;
  if (header != nullptr) {
    RVAE_ASSIGN_OR_RETURN(json_size, parse_header_length(*header));
    if (json_size > limits.max_json_header_bytes) {
      return too_large("inference reply's JSON header of " + std::to_string(json_size) +
                       " bytes is above the limit of " +
                       std::to_string(limits.max_json_header_bytes));
    }
    if (json_apart != nullptr) {
      if (json_apart->size() != json_size) {
        return data_loss("inference reply's JSON header length " + std::to_string(json_size) +
                         " disagrees with the " + std::to_string(json_apart->size()) +
                         " bytes received as its header");
      }
      body_start = json_size;
    } else if (json_size > body.size()) {
      return data_loss("inference reply's JSON header length " + std::to_string(json_size) +
                       " is past its " + std::to_string(body.size()) + "-byte body");
    }
    if (json_size == 0) {
      return data_loss("inference reply has no JSON header (" + std::string(kHeaderLength) +
                       ": 0)");
    }
  } else if (body.size() > limits.max_json_reply_bytes) {
    return too_large("inference reply of " + std::to_string(body.size()) +
                     " bytes in the JSON form is above the limit of " +
                     std::to_string(limits.max_json_reply_bytes));
  }
  const Bytes& json_bytes = json_apart != nullptr ? *json_apart : body;
  const std::string_view json(reinterpret_cast<const char*>(json_bytes.data()), json_size);
  RVAE_ASSIGN_OR_RETURN(const ReplyJson reply, internal::scan_reply_json(json));
  RVAE_ASSIGN_OR_RETURN(const std::size_t index, find_output(reply, expect.output_name));
  const ReplyOutput& output = reply.outputs[index];
  RVAE_ASSIGN_OR_RETURN(Shape shape, check_output(output, expect));
  auto needed = checked_byte_size(shape, expect.dtype);
  if (!needed) {
    return data_loss("inference reply's output " + in_quotes(output.name) + " shape " +
                     dims_text(shape) + " is impossible: " + needed.error().message());
  }
  const std::size_t bytes = *needed;

  bool any_binary = false;
  for (const ReplyOutput& o : reply.outputs)
    any_binary = any_binary || o.binary_data_size.has_value();
  if (any_binary && header == nullptr) {
    return data_loss("inference reply has binary outputs but no " + std::string(kHeaderLength));
  }
  if (header != nullptr) {
    RVAE_ASSIGN_OR_RETURN(std::size_t start,
                          binary_offset(reply, index, json_size, body_start + body.size()));
    start -= body_start;
    if (output.binary_data_size) {
      if (output.has_data) {
        return data_loss("inference reply's output " + in_quotes(output.name) +
                         " has both binary data and JSON data");
      }
      if (*output.binary_data_size != bytes) {
        return data_loss("inference reply's output " + in_quotes(output.name) + " has " +
                         std::to_string(*output.binary_data_size) + " bytes; shape " +
                         dims_text(shape) + " of " + output.datatype + " needs " +
                         std::to_string(bytes));
      }
      // The bytes move to the front of the body they arrived in: no second buffer.
      if (start != 0) std::memmove(body.data(), body.data() + start, bytes);
      body.resize(bytes);
      return Tensor::from_bytes(std::move(shape), expect.dtype, std::move(body));
    }
  }
  if (!output.has_data) {
    return data_loss(
        "inference reply's output " + in_quotes(output.name) +
        (output.has_parameters ? " has parameters without a binary_data_size" : " has") +
        " no data");
  }
  // Each element takes at least one character and a separator: a shape claiming more cannot
  // be honest, and is refused before its buffer is allocated.
  const std::size_t numel = bytes / dtype_size(expect.dtype);
  if (numel > json.size() / 2 + 1) {
    return data_loss("inference reply's output " + in_quotes(output.name) + " claims " +
                     std::to_string(numel) + " elements in " + std::to_string(json.size()) +
                     " bytes of JSON");
  }
  Bytes values(bytes);
  RVAE_TRY(internal::read_json_data(json, index, output.name, expect.dtype, numel, values.data()));
  return Tensor::from_bytes(std::move(shape), expect.dtype, std::move(values));
}

}  // namespace

Result<Tensor> parse_infer_reply(http::HttpResponse&& response, const InferExpectation& expect,
                                 const InferReplyLimits& limits) {
  return parse_reply(std::move(response), nullptr, expect, limits);
}

Result<Tensor> parse_infer_reply(http::HttpResponse&& response, Bytes&& json_header,
                                 const InferExpectation& expect, const InferReplyLimits& limits) {
  const Bytes header = std::move(json_header);
  return parse_reply(std::move(response), &header, expect, limits);
}

Result<std::optional<BinaryOutputPlace>> locate_binary_output(std::string_view json_header,
                                                              const InferExpectation& expect) {
  RVAE_ASSIGN_OR_RETURN(const ReplyJson reply, internal::scan_reply_json(json_header));
  RVAE_ASSIGN_OR_RETURN(const std::size_t index, find_output(reply, expect.output_name));
  const ReplyOutput& output = reply.outputs[index];
  RVAE_ASSIGN_OR_RETURN(Shape shape, check_output(output, expect));
  auto needed = checked_byte_size(shape, expect.dtype);
  if (!needed) {
    return data_loss("inference reply's output " + in_quotes(output.name) + " shape " +
                     dims_text(shape) + " is impossible: " + needed.error().message());
  }
  // Its data in the JSON: the whole reply is needed first.
  if (!output.binary_data_size) return std::optional<BinaryOutputPlace>();
  if (output.has_data) {
    return data_loss("inference reply's output " + in_quotes(output.name) +
                     " has both binary data and JSON data");
  }
  if (*output.binary_data_size != *needed) {
    return data_loss("inference reply's output " + in_quotes(output.name) + " has " +
                     std::to_string(*output.binary_data_size) + " bytes; shape " +
                     dims_text(shape) + " of " + output.datatype + " needs " +
                     std::to_string(*needed));
  }
  BinaryOutputPlace place;
  for (std::size_t i = 0; i < reply.outputs.size(); ++i) {
    if (i == index) place.offset = place.binary_bytes;
    const auto& size = reply.outputs[i].binary_data_size;
    if (!size) continue;
    if (*size > std::numeric_limits<std::uint64_t>::max() - place.binary_bytes) {
      return data_loss("inference reply's binary outputs add up to more bytes than can exist");
    }
    place.binary_bytes += *size;
  }
  place.shape = std::move(shape);
  place.bytes = *needed;
  return std::optional<BinaryOutputPlace>(std::move(place));
}

}  // namespace rvae::protocol::oip
