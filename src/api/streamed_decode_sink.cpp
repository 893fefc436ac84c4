#include "api/streamed_decode_sink.hpp"

#include <utility>

#include "core/try.hpp"

namespace rvae::detail {

Result<void> StreamedDecodeSink::begin(int status, const std::vector<http::Header>& headers,
                                       transport::Resume resume) {
  http::HttpResponse declared;
  declared.status = status;
  declared.headers = headers;
  RVAE_ASSIGN_OR_RETURN(ReplyLayout layout,
                        protocol::check_streamed_decode_reply(declared, expect_, limits_));
  return streamer_->begin_attempt(layout, std::move(resume));
}

Result<transport::ReplySink::Flow> StreamedDecodeSink::write(const std::uint8_t* data,
                                                             std::size_t size) {
  return streamer_->write(data, size);
}

}  // namespace rvae::detail
