#include "transport/phases.hpp"

#include <gtest/gtest.h>

namespace rvae::transport {
namespace {

using std::chrono::microseconds;

TEST(SplitPhasesTest, EachPhaseEndsAtItsMark) {
  LegMarks marks;
  marks.request_start = microseconds(100);
  marks.upload_done = microseconds(600);
  marks.first_byte = microseconds(200'600);
  marks.end = microseconds(210'000);
  const LegPhases phases = split_phases(marks);
  EXPECT_EQ(phases.upload, microseconds(500));
  EXPECT_EQ(phases.server_wait, microseconds(200'000));
  EXPECT_EQ(phases.download, microseconds(9'400));
}

TEST(SplitPhasesTest, AReplyBeforeTheUploadEndedEndsTheUploadThere) {
  LegMarks marks;
  marks.upload_done = microseconds(900);
  marks.first_byte = microseconds(400);
  marks.end = microseconds(1000);
  const LegPhases phases = split_phases(marks);
  EXPECT_EQ(phases.upload, microseconds(400));
  EXPECT_EQ(phases.server_wait, microseconds(0));
  EXPECT_EQ(phases.download, microseconds(600));
}

TEST(SplitPhasesTest, NoBodyAndNoReplyGiveWaitingOnly) {
  LegMarks marks;
  marks.request_start = microseconds(50);
  marks.end = microseconds(5000);
  const LegPhases phases = split_phases(marks);
  EXPECT_EQ(phases.upload, microseconds(0));
  EXPECT_EQ(phases.server_wait, microseconds(4950));
  EXPECT_EQ(phases.download, microseconds(0));
}

TEST(SplitPhasesTest, MarksOutOfOrderNeverGiveNegativePhasesOrExceedTheEnd) {
  LegMarks marks;
  marks.request_start = microseconds(700);
  marks.upload_done = microseconds(100);
  marks.first_byte = microseconds(9000);
  marks.end = microseconds(800);
  const LegPhases phases = split_phases(marks);
  EXPECT_GE(phases.upload.count(), 0);
  EXPECT_GE(phases.server_wait.count(), 0);
  EXPECT_GE(phases.download.count(), 0);
  EXPECT_LE((phases.upload + phases.server_wait + phases.download).count(), 800);
}

}  // namespace
}  // namespace rvae::transport
