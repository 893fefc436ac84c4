// Receives an Open Inference decode reply as it arrives: the JSON header first, checked against
// the plan, then the output's bytes from the binary section to a ReplyStreamer. A reply that
// cannot stream (the JSON form, an output that needs converting) is held whole instead, as
// SplitReplySink holds it, and handed out once parsed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "api/reply_streamer.hpp"
#include "api/split_reply_sink.hpp"
#include "protocol/open_inference.hpp"
#include "transport/transport.hpp"

namespace rvae::detail {

class OpenInferenceStreamSink final : public transport::ReplySink {
 public:
  OpenInferenceStreamSink(std::shared_ptr<ReplyStreamer> streamer,
                          std::shared_ptr<SplitReplySink> whole, std::size_t max_header_bytes)
      : streamer_(std::move(streamer)),
        whole_(std::move(whole)),
        max_header_bytes_(max_header_bytes) {}

  /// The plan of the infer request, before it starts (again after a re-plan).
  void set_plan(std::shared_ptr<const protocol::oip::DecodePlan> plan) { plan_ = std::move(plan); }

  Result<void> begin(int status, const std::vector<http::Header>& headers,
                     transport::Resume resume) override;
  Result<Flow> write(const std::uint8_t* data, std::size_t size) override;

  /// After the transfer: whether the last attempt was held whole (then `whole` has it).
  bool held_whole() const noexcept { return stage_ == Stage::kWhole; }

 private:
  enum class Stage { kHeader, kSkip, kPayload, kTrailing, kWhole };
  Result<void> start_whole();

  std::shared_ptr<ReplyStreamer> streamer_;
  std::shared_ptr<SplitReplySink> whole_;
  std::size_t max_header_bytes_;
  std::shared_ptr<const protocol::oip::DecodePlan> plan_;

  // This attempt's.
  Stage stage_ = Stage::kWhole;
  int status_ = 0;
  std::vector<http::Header> headers_;
  transport::Resume resume_;
  Bytes header_;
  std::size_t header_expected_ = 0;
  std::uint64_t skip_left_ = 0;
  std::uint64_t payload_left_ = 0;
  std::uint64_t trailing_left_ = 0;
};

}  // namespace rvae::detail
