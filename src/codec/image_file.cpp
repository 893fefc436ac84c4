// read_image and write_image: the core file routine around the codecs.
#include <cctype>
#include <climits>
#include <string>
#include <utility>

#include "core/file_io.hpp"
#include "core/try.hpp"
#include "rvae/image.hpp"

namespace rvae {
namespace {

std::string lowercase_extension(const std::string& path) {
  const std::size_t slash = path.find_last_of(detail::kPathSeparators);  // "a.d/x" has none
  const std::size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string extension = path.substr(dot);
  for (char& c : extension)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return extension;
}

}  // namespace

Result<Image> read_image(const std::string& path, const ImageDecodeOptions& options) {
  detail::ReadFileOptions read_options;
  // decode_image cannot take more than INT_MAX bytes; the cap refuses a larger file before
  // allocating. Only regular files: a FIFO at the path is refused rather than waited on.
  read_options.max_bytes = INT_MAX;
  read_options.regular_file_only = true;
  RVAE_ASSIGN_OR_RETURN(Bytes data, detail::read_whole_file(path, read_options));
  return decode_image(data.data(), data.size(), options);
}

Result<void> write_image(const std::string& path, const Image& image, int jpeg_quality) {
  const std::string extension = lowercase_extension(path);
  const bool png = extension == ".png";
  if (!png && extension != ".jpg" && extension != ".jpeg") {
    return Error(ErrorCode::kInvalidArgument, "cannot tell the image format of '" + path +
                                                  "': use a .png, .jpg or .jpeg extension");
  }
  RVAE_ASSIGN_OR_RETURN(Bytes encoded, png ? encode_png(image) : encode_jpeg(image, jpeg_quality));
  return detail::write_file_atomically(path, encoded.data(), encoded.size());
}

}  // namespace rvae
