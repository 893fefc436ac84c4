// The reference endpoint's request parsing: the query string (typed as the service types it),
// the tensor body against its dtype/shape parameters, and a whole decode or encode request
// with small limits.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_input.hpp"
#include "testing/inference.hpp"
#include "testing/query_params.hpp"
#include "testing/stand_in_vae.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rvae::fuzz::FuzzInput input(data, size);
  const std::uint8_t selector = input.byte();
  const std::string_view target = input.until("\n");
  const std::string_view content_type = input.until("\n");
  const std::string_view body = input.remaining();

  const std::string_view raw_query = rvae::reference::raw_query_of(target);
  const auto params = rvae::reference::QueryParams::parse(raw_query);
  for (const char* key : {"shape", "dtype", "output_type", "image_format", "height", "width",
                          "scaling_factor", "shift_factor", "do_scaling", "partial_postprocess"}) {
    if (const auto* value = params.find(key)) static_cast<void>(value->python_str());
    static_cast<void>(params.get_string(key));
    static_cast<void>(params.get_bool(key));
    static_cast<void>(params.get_int(key));
    static_cast<void>(params.get_number(key));
  }
  static_cast<void>(rvae::reference::parse_tensor_body(params, body, 1u << 20));

  static const char* const kModels[] = {"sd15", "sdxl", "flux", "hunyuan-video"};
  const rvae::reference::StandInVae* vae =
      rvae::reference::find_stand_in_vae(kModels[selector % 4]);
  if (vae == nullptr) return 0;
  rvae::reference::InferenceRequest request;
  if (!content_type.empty()) request.content_type = std::string(content_type);
  request.raw_query = raw_query;
  request.body = body;
  rvae::reference::InferenceLimits limits;
  limits.max_image_side = 64;
  limits.max_body_bytes = 1u << 20;
  limits.max_reply_bytes = 4u << 20;
  static_cast<void>((selector & 0x80) != 0 ? rvae::reference::run_encode(*vae, request, limits)
                                           : rvae::reference::run_decode(*vae, request, limits));
  return 0;
}
