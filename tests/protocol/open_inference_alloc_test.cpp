// What parsing an inference reply allocates: the binary form reuses the body's buffer, the
// JSON form streams `data` into one buffer of the output's size (no DOM of the array).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "files/alloc_tracker.hpp"
#include "open_inference_test_util.hpp"
#include "support/result_matchers.hpp"

namespace rvae::protocol::oip {
namespace {

using testing_support::IsOk;

TEST(OipInferReplyAllocations, BinaryOutputTakesTheBody) {
  const std::vector<float> values(1 << 18, 0.5f);  // 1 MiB
  http::HttpResponse response =
      test::binary_reply({{"mean", "FP32", {1, 4}, Bytes(16)},
                          {"sample", "FP32", {1, 1 << 18}, test::bytes_of(values)}});
  testing_support::reset_largest_allocation();
  testing_support::reset_peak_heap();
  auto tensor = parse_infer_reply(std::move(response), {"sample", DType::kFloat32, {1, -1}});
  ASSERT_THAT(tensor, testing_support::IsOk());
  EXPECT_LT(testing_support::largest_allocation(), std::size_t{16} << 10);
  EXPECT_LT(testing_support::peak_heap_growth(), std::size_t{64} << 10);
}

TEST(OipInferReplyAllocations, JsonDataStreamsIntoOneBuffer) {
  constexpr std::size_t kCount = 200000;
  std::string data = "[";
  for (std::size_t i = 0; i < kCount; ++i)
    data += i ? ",0.5" : "0.5";
  data += "]";
  http::HttpResponse response =
      test::json_data_reply("sample", "FP32", {1, static_cast<std::int64_t>(kCount)}, data);
  testing_support::reset_largest_allocation();
  testing_support::reset_peak_heap();
  auto tensor = parse_infer_reply(std::move(response), {"sample", DType::kFloat32, {1, -1}});
  ASSERT_THAT(tensor, testing_support::IsOk());
  // The output's 800 kB and little else; a DOM of the array would hold several MB.
  EXPECT_EQ(testing_support::largest_allocation(), kCount * 4);
  EXPECT_LT(testing_support::peak_heap_growth(), kCount * 4 + (std::size_t{64} << 10));
}

}  // namespace
}  // namespace rvae::protocol::oip
