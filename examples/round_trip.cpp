// Encodes an image and decodes it back with one model preset.
//
//   round_trip IMAGE.png [MODEL]            # against an in-process reference endpoint
//   round_trip IMAGE.png MODEL --live       # against the model's public endpoints (HF_TOKEN)
//
// Writes round_trip.png next to the working directory.
#include <rvae/rvae.hpp>
#include <rvae/testing/reference_endpoint.hpp>

#include <cstdlib>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: round_trip IMAGE.png [MODEL] [--live]\n";
    return 2;
  }
  const std::string model = argc > 2 ? argv[2] : "sdxl";
  const bool live = argc > 3 && std::string(argv[3]) == "--live";

  const rvae::PresetRegistry presets = rvae::PresetRegistry::builtin();
  const rvae::ModelPreset* preset = presets.find(model);
  if (preset == nullptr) {
    std::cerr << "unknown model " << model << "\n";
    return 2;
  }

  rvae::reference::ReferenceEndpoint reference;
  std::string encode_url = preset->encode_endpoint;
  std::string decode_url = preset->decode_endpoint;
  if (!live) {
    if (auto started = reference.start(); !started) {
      std::cerr << started.error().what() << "\n";
      return 1;
    }
    encode_url = reference.url("/" + model + "/encode/");
    decode_url = reference.url("/" + model + "/decode/");
  }

  rvae::ClientOptions client_options;
  if (const char* token = std::getenv("HF_TOKEN")) client_options.token = token;
  rvae::Client client(client_options);

  rvae::Result<rvae::Image> image = rvae::read_image(argv[1]);
  if (!image) {
    std::cerr << image.error().what() << "\n";
    return 1;
  }
  rvae::Result<rvae::EncodeOutput> encoded =
      client.encode(encode_url, *image, preset->encode_options());
  if (!encoded) {
    std::cerr << "encode: " << encoded.error().what() << "\n";
    return 1;
  }
  const rvae::Tensor& latents = encoded->latents;
  std::cout << "latents " << rvae::shape_to_string(latents.shape()) << " "
            << rvae::dtype_name(latents.dtype()) << "\n";

  rvae::DecodeOptions options = preset->decode_options();
  options.image_format = rvae::ImageFormat::kPng;
  rvae::Result<rvae::DecodeOutput> decoded = client.decode(decode_url, latents.view(), options);
  if (!decoded) {
    std::cerr << "decode: " << decoded.error().what() << "\n";
    return 1;
  }
  if (auto written =
          rvae::write_file("round_trip.png", decoded->encoded.data(), decoded->encoded.size());
      !written) {
    std::cerr << written.error().what() << "\n";
    return 1;
  }
  const rvae::Image& out = decoded->images.at(0);
  std::cout << "decoded " << out.width << "x" << out.height << " -> round_trip.png\n";
  return 0;
}
