// Encodes and decodes one synthetic image against an in-process reference endpoint; prints
// "consumer ok" only when the round trip gives back the image's size.
#include <rvae/rvae.hpp>
#include <rvae/testing/reference_endpoint.hpp>

#include <iostream>

int main() {
  rvae::reference::ReferenceEndpoint endpoint;
  if (!endpoint.start()) return 1;
  rvae::Image image{32, 16, 3, rvae::Bytes(32 * 16 * 3, 128)};
  rvae::Result<rvae::EncodeOutput> latents =
      rvae::Client().encode(endpoint.url("/sd15/encode/"), image, rvae::EncodeOptions{});
  if (!latents) {
    std::cerr << latents.error().what() << "\n";
    return 1;
  }
  rvae::Result<rvae::DecodeOutput> decoded =
      rvae::Client().decode(endpoint.url("/sd15/decode/"), latents->latents.view());
  if (!decoded || decoded->images.at(0).width != 32 || decoded->images.at(0).height != 16) {
    std::cerr << (decoded ? "wrong size" : decoded.error().what()) << "\n";
    return 1;
  }
  std::cout << "consumer ok\n";
  return 0;
}
