// The infer route of the Open Inference Protocol side. Checks come in Triton's order: input
// count and name, datatype, shape, then the data's size; the model then runs on raw latents
// (no scaling parameters exist on this protocol) with the same stand-in as the HF routes.
#include "testing/oip_infer.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/try.hpp"
#include "rvae/tensor.hpp"
#include "testing/inference.hpp"
#include "testing/inference_util.hpp"
#include "testing/stand_in_compute.hpp"

namespace rvae::reference {
namespace {

std::string shape_text(const Shape& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i)
    out += (i == 0 ? "" : ",") + std::to_string(shape[i]);
  return out + "]";
}

std::string cap_text(const InferenceLimits& limits) {
  return std::to_string(limits.max_image_side) + "x" + std::to_string(limits.max_image_side);
}

// The request's one input against the model's: name, datatype, rank and fixed dimensions.
Result<void> check_input(const OipModel& model, const OipTensorSpec& spec,
                         const OipInferRequest& request) {
  if (request.inputs.size() != 1) {
    return bad_request("expected 1 inputs but got " + std::to_string(request.inputs.size()) +
                       " inputs for model '" + model.name + "'");
  }
  const OipInput& input = request.inputs.front();
  if (input.name != spec.name) {
    return bad_request("unexpected inference input '" + input.name + "' for model '" + model.name +
                       "'");
  }
  const std::string expected = oip_datatype_name(spec.dtype);
  if (input.datatype != expected) {
    return bad_request("inference input '" + input.name + "' data-type is '" + input.datatype +
                       "', but model '" + model.name + "' expects '" + expected + "'");
  }
  bool fits = input.shape.size() == spec.shape.size();
  for (std::size_t i = 0; fits && i < spec.shape.size(); ++i) {
    fits = spec.shape[i] == -1 ? input.shape[i] > 0 : input.shape[i] == spec.shape[i];
  }
  if (!fits) {
    return bad_request("unexpected shape for input '" + input.name + "' for model '" + model.name +
                       "'. Expected " + shape_text(spec.shape) + ", got " +
                       shape_text(input.shape));
  }
  return {};
}

// The input's values as float32 (binary bytes converted, JSON numbers as parsed).
Result<Tensor> input_values(const OipInput& input, DType dtype, const InferenceLimits& limits) {
  if (input.has_data) {
    // Triton reads neither in JSON (no JSON number type holds them exactly).
    if (dtype == DType::kFloat16 || dtype == DType::kBFloat16) {
      return bad_request("receiving " + oip_datatype_name(dtype) +
                         " data via JSON is not supported. Please use the binary data format for "
                         "input " +
                         input.name);
    }
  }
  Result<std::size_t> bytes = checked_byte_size(input.shape, dtype, limits.max_body_bytes);
  if (!bytes) {
    return bad_request("input '" + input.name + "' of shape " + shape_text(input.shape) +
                       " is too large: " + bytes.error().message());
  }
  const std::size_t numel = *bytes / dtype_size(dtype);
  if (input.has_data) {
    if (input.data.size() != numel) {
      return bad_request("unexpected number of elements for input '" + input.name + "': shape " +
                         shape_text(input.shape) + " needs " + std::to_string(numel) +
                         ", 'data' holds " + std::to_string(input.data.size()));
    }
    Bytes raw(numel * sizeof(float));
    std::copy_n(reinterpret_cast<const std::uint8_t*>(input.data.data()), raw.size(), raw.data());
    return Tensor::from_bytes(input.shape, DType::kFloat32, std::move(raw));
  }
  if (input.bytes.size() != *bytes) {
    return bad_request("input '" + input.name + "' has binary_data_size " +
                       std::to_string(input.bytes.size()) + ", but shape " +
                       shape_text(input.shape) + " of " + oip_datatype_name(dtype) + " needs " +
                       std::to_string(*bytes) + " bytes");
  }
  const TensorView view{input.bytes.data(), input.bytes.size(), input.shape, dtype};
  return convert(view, DType::kFloat32);
}

struct Output {
  OipTensorSpec spec;  // the shape here is the reply's, not the metadata's
  Bytes bytes;
};

Result<Output> run_decoder(const OipModel& model, const OipDatatypes& datatypes,
                           const Tensor& latents, const InferenceLimits& limits) {
  const StandInVae& vae = *model.vae;
  const Shape& s = latents.shape();
  LatentGrid grid;
  grid.batch = static_cast<std::size_t>(s[0]);
  grid.channels = static_cast<std::size_t>(s[1]);
  grid.frames = s.size() == 5 ? static_cast<std::size_t>(s[2]) : 1;
  grid.height = static_cast<std::size_t>(s[s.size() - 2]);
  grid.width = static_cast<std::size_t>(s.back());
  grid.values = latents.data_as<float>();
  if (!vae.is_video() && grid.frames != 1) {
    return bad_request(model.name + " decodes one image: its latent has T = 1, got shape " +
                       shape_text(s));
  }
  const auto max_latent = static_cast<std::size_t>(limits.max_image_side / 8);
  if (grid.height > max_latent || grid.width > max_latent) {
    return bad_request("Output of " + std::to_string(grid.width * 8) + "x" +
                       std::to_string(grid.height * 8) + " pixels exceeds the service cap of " +
                       cap_text(limits) + ".");
  }
  RVAE_TRY(check_frame_cap(output_frames(vae, grid.frames), limits));
  Output out;
  out.spec = oip_output_spec(model, datatypes);
  const auto b = static_cast<std::int64_t>(grid.batch);
  const auto f = static_cast<std::int64_t>(output_frames(vae, grid.frames));
  const auto h = static_cast<std::int64_t>(grid.height * 8);
  const auto w = static_cast<std::int64_t>(grid.width * 8);
  const bool five_d = s.size() == 5;
  if (out.spec.dtype == DType::kUInt8) {
    out.spec.shape = five_d ? Shape{b, f, h, w, 3} : Shape{b, h, w, 3};
  } else {
    out.spec.shape = five_d ? Shape{b, 3, f, h, w} : Shape{b, 3, h, w};
  }
  Result<std::size_t> bytes =
      checked_byte_size(out.spec.shape, out.spec.dtype, limits.max_reply_bytes);
  if (!bytes) {
    return bad_request("The reply for latents of shape " + shape_text(s) +
                       " would exceed the server's cap of " +
                       std::to_string(limits.max_reply_bytes) + " bytes.");
  }
  const std::vector<float> rgb = latent_rgb(vae, grid, RequestFactors{}, limits.spatial_context);
  out.bytes.resize(*bytes);
  if (out.spec.dtype == DType::kUInt8) {
    write_uint8_pixels(vae, rgb, grid, out.bytes.data());
  } else {
    write_float_pixels(vae, rgb, grid, out.spec.dtype, out.bytes.data());
  }
  return out;
}

Result<Output> run_encoder(const OipModel& model, const OipDatatypes& datatypes, Tensor pixels,
                           const InferenceLimits& limits) {
  const StandInVae& vae = *model.vae;
  const Shape s = pixels.shape();
  PixelGrid grid;
  grid.batch = static_cast<std::size_t>(s[0]);
  grid.frames = s.size() == 5 ? static_cast<std::size_t>(s[2]) : 1;
  grid.height = static_cast<std::size_t>(s[s.size() - 2]);
  grid.width = static_cast<std::size_t>(s.back());
  for (auto [side, what] : {std::pair<std::size_t, const char*>{grid.width, "width"},
                            std::pair<std::size_t, const char*>{grid.height, "height"}}) {
    if (side % 8 != 0) {
      return bad_request(std::string("Image ") + what + " " + std::to_string(side) +
                         " is not a multiple of 8.");
    }
    if (side > static_cast<std::size_t>(limits.max_image_side)) {
      return bad_request(std::string("Image ") + what + " " + std::to_string(side) +
                         " exceeds the service cap of " + cap_text(limits) + ".");
    }
  }
  RVAE_TRY(check_frames(vae, grid.frames, limits.spatial_context));
  // As the HF encode does: NaN becomes -1 and values outside [-1, 1] are clamped, so every
  // latent is finite.
  float* values = pixels.data_as<float>();
  for (std::size_t i = 0; i < pixels.numel(); ++i)
    values[i] = std::isnan(values[i]) ? -1.0f : std::clamp(values[i], -1.0f, 1.0f);
  grid.values = values;
  Output out;
  out.spec = oip_output_spec(model, datatypes);
  const auto lh = static_cast<std::int64_t>(grid.height / 8);
  const auto lw = static_cast<std::int64_t>(grid.width / 8);
  const auto b = static_cast<std::int64_t>(grid.batch);
  if (s.size() == 5) {
    const auto t = static_cast<std::int64_t>(latent_frames_of(vae, grid.frames));
    out.spec.shape = {b, vae.channels, t, lh, lw};
  } else {
    out.spec.shape = {b, vae.channels, lh, lw};
  }
  Result<std::size_t> bytes =
      checked_byte_size(out.spec.shape, out.spec.dtype, limits.max_reply_bytes);
  if (!bytes) {
    return bad_request("The reply would exceed the server's cap of " +
                       std::to_string(limits.max_reply_bytes) + " bytes.");
  }
  out.bytes.resize(*bytes);
  encode_pixels(vae, grid, RequestFactors{}, limits.spatial_context, out.spec.dtype,
                out.bytes.data());
  return out;
}

// Whether the output goes binary: its own `binary_data`, else the request's default. An
// output list that names another output is refused.
Result<bool> binary_reply(const OipModel& model, const OipTensorSpec& spec,
                          const OipInferRequest& request) {
  if (!request.outputs || request.outputs->empty()) return request.binary_data_output;
  std::optional<bool> binary;
  for (const OipRequestedOutput& output : *request.outputs) {
    if (output.name != spec.name) {
      return bad_request("unexpected inference output '" + output.name + "' for model '" +
                         model.name + "'");
    }
    if (!binary) binary = output.binary_data.value_or(request.binary_data_output);
  }
  return *binary;
}

nlohmann::json reply_header(const OipModel& model, const OipInferRequest& request) {
  nlohmann::json header = {{"model_name", model.name}, {"model_version", "1"}};
  if (request.id) header["id"] = *request.id;
  return header;
}

std::string dump(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

InferenceReply binary_form(const OipModel& model, const OipInferRequest& request, Output out) {
  nlohmann::json header = reply_header(model, request);
  header["outputs"] = {{{"name", out.spec.name},
                        {"datatype", oip_datatype_name(out.spec.dtype)},
                        {"shape", out.spec.shape},
                        {"parameters", {{"binary_data_size", out.bytes.size()}}}}};
  const std::string text = dump(header);
  InferenceReply reply;
  reply.content_type = "application/octet-stream";
  reply.headers.emplace_back("Inference-Header-Content-Length", std::to_string(text.size()));
  reply.body.reserve(text.size() + out.bytes.size());
  reply.body.insert(reply.body.end(), text.begin(), text.end());
  reply.body.insert(reply.body.end(), out.bytes.begin(), out.bytes.end());
  return reply;
}

// The JSON form, written number by number (a DOM of a whole image would cost gigabytes): FP32
// with 9 significant digits (enough to read back the same float), UINT8 as integers. No
// `parameters` on the output: Triton's C++ client fails on one without binary_data_size.
Result<InferenceReply> json_form(const OipModel& model, const OipInferRequest& request,
                                 const Output& out, const InferenceLimits& limits) {
  if (out.spec.dtype == DType::kFloat16 || out.spec.dtype == DType::kBFloat16) {
    return bad_request("sending " + oip_datatype_name(out.spec.dtype) +
                       " data via JSON is not supported. Please request binary data for output " +
                       out.spec.name);
  }
  const std::size_t numel = out.bytes.size() / dtype_size(out.spec.dtype);
  constexpr std::size_t kMaxNumberChars = 17;  // "-1.23456789e-38,"
  if (numel > (limits.max_reply_bytes - 1024) / kMaxNumberChars) {
    return bad_request("The JSON reply would exceed the server's cap of " +
                       std::to_string(limits.max_reply_bytes) +
                       " bytes; request binary data for output " + out.spec.name);
  }
  nlohmann::json header = reply_header(model, request);
  header["outputs"] = {{{"name", out.spec.name},
                        {"datatype", oip_datatype_name(out.spec.dtype)},
                        {"shape", out.spec.shape},
                        {"data", nlohmann::json::array()}}};
  const std::string text = dump(header);
  // The empty data array: the last "[]" of the text, as "outputs" is the last key and its
  // "shape" is never empty.
  const std::size_t hole = text.rfind("[]");
  std::string body;
  body.reserve(text.size() + numel * 12);
  body.append(text, 0, hole + 1);
  char number[32];
  for (std::size_t i = 0; i < numel; ++i) {
    if (i > 0) body += ',';
    if (out.spec.dtype == DType::kUInt8) {
      body += std::to_string(out.bytes[i]);
    } else {
      float value;
      std::memcpy(&value, out.bytes.data() + i * 4, 4);
      std::snprintf(number, sizeof(number), "%.9g", static_cast<double>(value));
      body += number;
    }
  }
  body.append(text, hole + 1, std::string::npos);
  InferenceReply reply;
  reply.content_type = "application/json";
  reply.body.assign(body.begin(), body.end());
  return reply;
}

}  // namespace

Result<InferenceReply> run_oip_infer(const OipModel& model, const OipDatatypes& datatypes,
                                     std::string_view body,
                                     std::optional<std::uint64_t> header_length,
                                     const InferenceLimits& limits,
                                     const OipParseLimits& parse_limits) {
  RVAE_ASSIGN_OR_RETURN(OipInferRequest request,
                        parse_oip_request(body, header_length, parse_limits));
  const OipTensorSpec input_spec = oip_input_spec(model, datatypes);
  RVAE_TRY(check_input(model, input_spec, request));
  RVAE_ASSIGN_OR_RETURN(const bool binary,
                        binary_reply(model, oip_output_spec(model, datatypes), request));
  RVAE_ASSIGN_OR_RETURN(Tensor values,
                        input_values(request.inputs.front(), input_spec.dtype, limits));
  request.inputs.front().data = std::vector<float>();  // not needed past here
  RVAE_ASSIGN_OR_RETURN(Output out, model.role == EndpointRole::kDecode
                                        ? run_decoder(model, datatypes, values, limits)
                                        : run_encoder(model, datatypes, std::move(values), limits));
  if (binary) return binary_form(model, request, std::move(out));
  return json_form(model, request, out, limits);
}

}  // namespace rvae::reference
