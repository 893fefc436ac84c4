// The safetensors format: u64 little-endian header length N, N bytes of JSON header, then the
// data buffer that the header's `data_offsets` index into. Everything in the header is checked
// against the real buffer before a single tensor byte is allocated.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/try.hpp"
#include "files/strict_json.hpp"
#include "rvae/error.hpp"
#include "rvae/latent_file.hpp"
#include "rvae/tensor.hpp"

namespace rvae {
namespace {

using Json = nlohmann::json;

// The reference implementation's cap; real headers are a few KiB.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
// {name: {shape: [...]}} is 3 levels; allow a little slack for metadata-like extras.
constexpr std::size_t kMaxHeaderDepth = 8;
constexpr std::string_view kMetadataKey = "__metadata__";

struct DTypeCode {
  std::string_view code;
  DType dtype;
};
constexpr DTypeCode kDTypeCodes[] = {
    {"F32", DType::kFloat32},
    {"F16", DType::kFloat16},
    {"BF16", DType::kBFloat16},
    {"U8", DType::kUInt8},
};

std::optional<DType> dtype_from_code(std::string_view code) {
  for (const auto& entry : kDTypeCodes) {
    if (entry.code == code) return entry.dtype;
  }
  return std::nullopt;
}

std::string_view code_of(DType dtype) {
  for (const auto& entry : kDTypeCodes) {
    if (entry.dtype == dtype) return entry.code;
  }
  return "";
}

Error invalid(const std::string& message) {
  return Error(ErrorCode::kInvalidArgument, message);
}

std::string quoted(const std::string& name) {
  // Names come from an untrusted file; keep messages printable and bounded.
  std::string out = "'";
  for (std::size_t i = 0; i < name.size() && i < 80; ++i) {
    const auto u = static_cast<unsigned char>(name[i]);
    out += (u >= 0x20 && u < 0x7f) ? name[i] : '?';
  }
  if (name.size() > 80) out += "...";
  return out + "'";
}

std::uint64_t read_u64_le(const std::uint8_t* p) {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i)
    value = (value << 8) | p[i];
  return value;
}

// Where one tensor lives in the data buffer, validated but not yet copied.
struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  std::uint64_t begin;
  std::uint64_t end;
};

Result<std::uint64_t> read_offset(const Json& value, const std::string& tensor) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  if (value.is_number_integer()) {
    return invalid("tensor " + tensor + ": data_offsets has a negative value");
  }
  return invalid("tensor " + tensor + ": data_offsets must hold integers");
}

Result<Entry> parse_entry(const std::string& name, const Json& value, std::uint64_t buffer_size) {
  const std::string tensor = quoted(name);
  if (!value.is_object()) return invalid("tensor " + tensor + " is not a JSON object");

  const auto dtype_it = value.find("dtype");
  if (dtype_it == value.end() || !dtype_it->is_string()) {
    return invalid("tensor " + tensor + " has no string \"dtype\"");
  }
  const auto& code = dtype_it->get_ref<const std::string&>();
  const auto dtype = dtype_from_code(code);
  if (!dtype) {
    return invalid("tensor " + tensor + " has dtype " + quoted(code) +
                   ", which rvae does not support (F32, F16, BF16, U8)");
  }

  const auto shape_it = value.find("shape");
  if (shape_it == value.end() || !shape_it->is_array()) {
    return invalid("tensor " + tensor + " has no \"shape\" array");
  }
  if (shape_it->empty()) {
    return invalid("tensor " + tensor + " is a scalar (shape []); rvae needs 1 to " +
                   std::to_string(kMaxDims) + " dimensions");
  }
  if (shape_it->size() > kMaxDims) {
    return invalid("tensor " + tensor + " has " + std::to_string(shape_it->size()) +
                   " dimensions; rvae supports at most " + std::to_string(kMaxDims));
  }
  Shape shape;
  for (const Json& dim : *shape_it) {
    if (dim.is_number_unsigned()) {
      const auto u = dim.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return invalid("tensor " + tensor + " has a dimension too large: " + std::to_string(u));
      }
      if (u == 0) {
        return invalid("tensor " + tensor +
                       " has a zero dimension (no elements); rvae does not support empty tensors");
      }
      shape.push_back(static_cast<std::int64_t>(u));
    } else if (dim.is_number_integer()) {
      return invalid("tensor " + tensor + " has a negative dimension " +
                     std::to_string(dim.get<std::int64_t>()));
    } else {
      return invalid("tensor " + tensor + ": shape must hold integers");
    }
  }

  const auto offsets_it = value.find("data_offsets");
  if (offsets_it == value.end() || !offsets_it->is_array() || offsets_it->size() != 2) {
    return invalid("tensor " + tensor + " has no \"data_offsets\" array of two integers");
  }
  RVAE_ASSIGN_OR_RETURN(auto begin, read_offset((*offsets_it)[0], tensor));
  RVAE_ASSIGN_OR_RETURN(auto end, read_offset((*offsets_it)[1], tensor));
  if (end < begin) {
    return invalid("tensor " + tensor + " ends (" + std::to_string(end) + ") before it begins (" +
                   std::to_string(begin) + ")");
  }
  auto bytes = checked_byte_size(shape, *dtype);
  if (!bytes) return invalid("tensor " + tensor + ": " + bytes.error().message());
  if (end - begin != *bytes) {
    return invalid("tensor " + tensor + " spans " + std::to_string(end - begin) +
                   " bytes but shape " + shape_to_string(shape) + " of " + code + " needs " +
                   std::to_string(*bytes));
  }
  if (end > buffer_size) {
    return Error(ErrorCode::kDataLoss, "safetensors data is " + std::to_string(buffer_size) +
                                           " bytes, tensor " + tensor + " needs " +
                                           std::to_string(end) + " (file truncated?)");
  }
  return Entry{name, *dtype, std::move(shape), begin, end};
}

// Limits on what a header may hold, checked while it is parsed so a hostile header is refused
// before it costs more memory than its own size. rvae reads latent files: one or a few tensors
// and a little metadata (training tools write tens of keys).
constexpr std::uint64_t kMaxTensors = 65536;
constexpr std::uint64_t kMaxMetadataEntries = 65536;
// dtype, shape (up to kMaxDims) and data_offsets (2) are 14 values; unknown extra fields are
// tolerated up to this many values in all.
constexpr std::uint64_t kMaxValuesPerEntry = 64;

// Consumes the header as it is parsed: each tensor entry becomes an Entry as soon as its object
// closes and is then dropped from the JSON tree, metadata values are checked and dropped, so the
// tree never holds more than one entry. Structural errors are kept (the first one wins, after
// JSON syntax errors, as a whole-tree check would order them); limits end the parse at once.
class HeaderReader {
 public:
  explicit HeaderReader(std::uint64_t buffer_size) : buffer_size_(buffer_size) {}

  bool on_event(int depth, Json::parse_event_t event, Json& parsed) {
    using Event = Json::parse_event_t;
    if (skip_depth_ >= 0) {
      // nlohmann reports some events inside a dropped container; none of them matter.
      if (depth > skip_depth_) return false;
      skip_depth_ = -1;
    }
    const bool starts = event == Event::object_start || event == Event::array_start;
    if (depth == 0) {
      if (event == Event::array_start) return skip(0);  // refused as "not a JSON object"
      return true;
    }
    if (depth == 1) return on_member(event, parsed, starts);
    if (in_metadata_) return on_metadata(depth, event, parsed, starts);
    if (starts || event == Event::value) {
      if (++entry_values_ > kMaxValuesPerEntry) {
        throw internal::JsonStop{invalid("tensor " + rvae::quoted(key_) + " holds more than " +
                                         std::to_string(kMaxValuesPerEntry) +
                                         " JSON values; an entry needs at most 14")};
      }
    }
    return true;
  }

  std::vector<Entry> entries;
  std::optional<Error> first_error;

 private:
  bool on_member(Json::parse_event_t event, Json& parsed, bool starts) {
    using Event = Json::parse_event_t;
    if (event == Event::key) {
      key_ = parsed.get<std::string>();
      in_metadata_ = false;
      if (key_ != kMetadataKey) {
        ++tensors_;
        if (tensors_ > kMaxTensors) {
          throw internal::JsonStop{invalid("safetensors header lists more than " +
                                           std::to_string(kMaxTensors) + " tensors")};
        }
        // Every tensor has at least one element, hence one byte of data.
        if (tensors_ > buffer_size_) {
          keep_first(
              Error(ErrorCode::kDataLoss, "safetensors header lists more tensors than the " +
                                              std::to_string(buffer_size_) +
                                              "-byte data buffer can hold (file truncated?)"));
        }
      }
      return true;
    }
    const bool metadata = key_ == kMetadataKey;
    if (event == Event::object_start) {
      in_metadata_ = metadata;
      entry_values_ = 0;
      return true;
    }
    if (event == Event::object_end) {
      in_metadata_ = false;
      if (!metadata) {
        auto entry = parse_entry(key_, parsed, buffer_size_);
        if (entry) {
          entries.push_back(std::move(*entry));
        } else {
          keep_first(std::move(entry).error());
        }
      }
      return false;
    }
    // A scalar or an array where an object belongs.
    keep_first(invalid(metadata ? std::string("safetensors __metadata__ is not a JSON object")
                                : "tensor " + rvae::quoted(key_) + " is not a JSON object"));
    return starts ? skip(1) : false;
  }

  bool on_metadata(int depth, Json::parse_event_t event, Json& parsed, bool starts) {
    using Event = Json::parse_event_t;
    if (depth == 2 && event == Event::key) {
      if (++metadata_entries_ > kMaxMetadataEntries) {
        throw internal::JsonStop{invalid("safetensors __metadata__ has more than " +
                                         std::to_string(kMaxMetadataEntries) + " entries")};
      }
      metadata_key_ = parsed.get<std::string>();
      return true;
    }
    if (depth == 2 && (starts || event == Event::value) && !parsed.is_string()) {
      keep_first(invalid("safetensors __metadata__ value " + rvae::quoted(metadata_key_) +
                         " is not a string"));
    }
    // Values are checked, not kept: rvae does not use metadata.
    return starts ? skip(depth) : false;
  }

  bool skip(int depth) {
    skip_depth_ = depth;
    return false;
  }

  void keep_first(Error error) {
    if (!first_error) first_error = std::move(error);
  }

  std::uint64_t buffer_size_;
  std::string key_;
  std::string metadata_key_;
  bool in_metadata_ = false;
  int skip_depth_ = -1;
  std::uint64_t tensors_ = 0;
  std::uint64_t metadata_entries_ = 0;
  std::uint64_t entry_values_ = 0;
};

// The format requires the tensors to tile the data buffer exactly: no overlap, no gap.
Result<void> check_layout(const std::vector<Entry>& entries, std::uint64_t buffer_size) {
  std::uint64_t expected = 0;
  const Entry* previous = nullptr;
  for (const Entry& entry : entries) {
    if (entry.begin < expected) {
      return invalid("tensors " + quoted(previous->name) + " and " + quoted(entry.name) +
                     " overlap in the data buffer");
    }
    if (entry.begin > expected) {
      return invalid("safetensors data has a gap of " + std::to_string(entry.begin - expected) +
                     " bytes before tensor " + quoted(entry.name));
    }
    expected = entry.end;
    previous = &entry;
  }
  if (expected != buffer_size) {
    return invalid("safetensors data has " + std::to_string(buffer_size - expected) +
                   " bytes after the last tensor");
  }
  return {};
}

}  // namespace

Result<std::vector<NamedTensor>> parse_safetensors(const std::uint8_t* data, std::size_t size) {
  if (data == nullptr && size != 0) return invalid("safetensors buffer is null");
  if (size < 8) {
    return Error(ErrorCode::kDataLoss, "safetensors file is " + std::to_string(size) +
                                           " bytes, too short for the 8-byte header length");
  }
  const std::uint64_t header_size = read_u64_le(data);
  if (header_size > kMaxHeaderBytes) {
    return invalid("safetensors header length " + std::to_string(header_size) +
                   " exceeds the limit of " + std::to_string(kMaxHeaderBytes) + " bytes");
  }
  if (header_size > size - 8) {
    return Error(ErrorCode::kDataLoss, "safetensors file is " + std::to_string(size) +
                                           " bytes, header needs " +
                                           std::to_string(8 + header_size));
  }
  const std::string_view header_text(reinterpret_cast<const char*>(data + 8),
                                     static_cast<std::size_t>(header_size));
  const std::uint8_t* buffer = data + 8 + header_size;
  const std::uint64_t buffer_size = size - 8 - header_size;
  HeaderReader reader(buffer_size);
  RVAE_ASSIGN_OR_RETURN(
      auto header,
      internal::parse_json_strict(header_text, "safetensors header", kMaxHeaderDepth,
                                  [&reader](int depth, Json::parse_event_t event, Json& parsed) {
                                    return reader.on_event(depth, event, parsed);
                                  }));
  if (!header.is_object()) return invalid("safetensors header is not a JSON object");
  if (reader.first_error) return std::move(*reader.first_error);

  std::vector<Entry> entries = std::move(reader.entries);
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  RVAE_TRY(check_layout(entries, buffer_size));

  // Only now, with every range inside the buffer and disjoint, copy the bytes.
  std::vector<NamedTensor> out;
  out.reserve(entries.size());
  for (Entry& entry : entries) {
    const auto* first = buffer + entry.begin;
    const auto* last = buffer + entry.end;
    RVAE_ASSIGN_OR_RETURN(
        auto tensor, Tensor::from_bytes(std::move(entry.shape), entry.dtype, Bytes(first, last)));
    out.push_back(NamedTensor{std::move(entry.name), std::move(tensor)});
  }
  return out;
}

Result<std::vector<NamedTensor>> read_safetensors(const std::string& path) {
  RVAE_ASSIGN_OR_RETURN(auto bytes, read_file(path));
  auto parsed = parse_safetensors(bytes.data(), bytes.size());
  if (!parsed) {
    Error error = std::move(parsed).error();
    return Error(error.code(), "'" + path + "': " + error.message());
  }
  return parsed;
}

Result<Bytes> serialize_safetensors(
    const std::vector<std::pair<std::string, TensorView>>& tensors) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  std::set<std::string_view> names;
  std::uint64_t offset = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, view] = tensors[i];
    if (name.empty()) return invalid("tensor #" + std::to_string(i) + " has an empty name");
    if (name == kMetadataKey) {
      return invalid("tensor #" + std::to_string(i) + " is named __metadata__, which is reserved");
    }
    if (!names.insert(name).second)
      return invalid("tensor name " + quoted(name) + " is used twice");
    auto ok = view.validate();
    if (!ok) return invalid("tensor " + quoted(name) + ": " + ok.error().message());
    // validate() has rejected unknown dtype values, so code_of finds every one.
    const std::string_view code = code_of(view.dtype);
    if (view.size_bytes > std::numeric_limits<std::uint64_t>::max() - offset) {
      return invalid("tensors are too large to serialise together");
    }
    const std::uint64_t end = offset + view.size_bytes;
    header[name] = {{"dtype", code}, {"shape", view.shape}, {"data_offsets", {offset, end}}};
    offset = end;
  }

  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception&) {
    return invalid("a tensor name is not valid UTF-8");
  }
  // Pad with spaces to a multiple of 8, as the reference writer does, so the data is aligned.
  text.append((8 - text.size() % 8) % 8, ' ');

  constexpr std::uint64_t kSizeMax = std::numeric_limits<std::size_t>::max();
  if (offset > kSizeMax - 8 - text.size()) {
    return Error(ErrorCode::kResourceExhausted, "tensors are too large to serialise in memory");
  }
  Bytes out;
  out.reserve(static_cast<std::size_t>(8 + text.size() + offset));
  const std::uint64_t header_size = text.size();
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<std::uint8_t>(header_size >> (8 * i)));
  out.insert(out.end(), text.begin(), text.end());
  for (const auto& item : tensors) {
    const auto* first = static_cast<const std::uint8_t*>(item.second.data);
    out.insert(out.end(), first, first + item.second.size_bytes);
  }
  return out;
}

Result<void> write_safetensors(const std::string& path,
                               const std::vector<std::pair<std::string, TensorView>>& tensors) {
  RVAE_ASSIGN_OR_RETURN(auto bytes, serialize_safetensors(tensors));
  return write_file(path, bytes.data(), bytes.size());
}

}  // namespace rvae
