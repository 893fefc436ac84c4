// Receives a Hugging Face decode reply as it arrives: its headers are checked against the request
// before any body byte is used, then the body goes to a ReplyStreamer.
#pragma once

#include <memory>
#include <vector>

#include "api/reply_streamer.hpp"
#include "http/message.hpp"
#include "protocol/protocol.hpp"
#include "transport/transport.hpp"

namespace rvae::detail {

class StreamedDecodeSink final : public transport::ReplySink {
 public:
  StreamedDecodeSink(std::shared_ptr<ReplyStreamer> streamer, protocol::DecodeExpectation expect,
                     protocol::ReplyLimits limits)
      : streamer_(std::move(streamer)), expect_(std::move(expect)), limits_(std::move(limits)) {}

  Result<void> begin(int status, const std::vector<http::Header>& headers,
                     transport::Resume resume) override;
  Result<Flow> write(const std::uint8_t* data, std::size_t size) override;

 private:
  std::shared_ptr<ReplyStreamer> streamer_;
  protocol::DecodeExpectation expect_;
  protocol::ReplyLimits limits_;
};

}  // namespace rvae::detail
