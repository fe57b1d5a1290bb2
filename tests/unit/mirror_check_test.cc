#include "verify/mirror_check.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace causeway::verify {
namespace {

using Partition = std::vector<ConsumedRecord>;

ConsumedRecord record(int i, int64_t offset) {
  ConsumedRecord r;
  r.offset = offset;
  r.key = "customer-" + std::to_string(i % 7);
  r.value = "{\"id\":" + std::to_string(i) + "}";
  r.headers = {{"trace-id", "abc" + std::to_string(i)}, {"empty", ""}};
  r.timestamp = 1'700'000'000'000 + i;
  r.timestamp_type = 1;
  return r;
}

Partition partition(int first, int count) {
  Partition out;
  for (int i = 0; i < count; ++i) {
    out.push_back(record(first + i, i));
  }
  return out;
}

// A target copy: same content, the target's own offsets, plus provenance headers.
Partition mirrored(const Partition& source) {
  Partition out;
  int64_t offset = 0;
  for (auto r : source) {
    r.offset = offset++;
    r.headers.emplace_back("causeway-source", "east/orders/0/" + std::to_string(r.offset));
    out.push_back(std::move(r));
  }
  return out;
}

TEST(MirrorCheckTest, IdenticalMirrorIsIdentical) {
  // given
  const std::vector<Partition> source = {partition(0, 50), partition(100, 30), {}};
  const std::vector<Partition> target = {mirrored(source[0]), mirrored(source[1]), {}};
  // when
  const MirrorCheck check = checkMirror("orders", source, "orders", target);
  // then
  EXPECT_TRUE(check.identical()) << check.describe();
  EXPECT_TRUE(check.atLeastOnce());
  EXPECT_TRUE(check.partition_count_matches);
  EXPECT_EQ(check.sourceRecords(), 80u);
  EXPECT_EQ(check.targetRecords(), 80u);
  EXPECT_EQ(check.missing() + check.duplicates() + check.unexpected() + check.outOfOrder(), 0u);
  ASSERT_EQ(check.partitions.size(), 3u);
  EXPECT_TRUE(check.partitions[2].identical);
}

TEST(MirrorCheckTest, MissingRecordIsCounted) {
  // given
  const std::vector<Partition> source = {partition(0, 20)};
  Partition target = mirrored(source[0]);
  target.erase(target.begin() + 7);
  // when
  const MirrorCheck check = checkMirror("orders", source, "orders", {target});
  // then
  EXPECT_EQ(check.missing(), 1u);
  EXPECT_EQ(check.duplicates(), 0u);
  EXPECT_EQ(check.unexpected(), 0u);
  EXPECT_EQ(check.outOfOrder(), 0u);
  EXPECT_FALSE(check.identical());
  EXPECT_FALSE(check.atLeastOnce());
}

TEST(MirrorCheckTest, RedeliveredRecordsAreDuplicatesButStillAtLeastOnce) {
  // given: the target got records 5..9 twice, as after a restart from an older commit
  const std::vector<Partition> source = {partition(0, 20)};
  Partition target(source[0].begin(), source[0].begin() + 10);
  target.insert(target.end(), source[0].begin() + 5, source[0].end());
  // when
  const MirrorCheck check = checkMirror("orders", source, "orders", {mirrored(target)});
  // then
  EXPECT_EQ(check.duplicates(), 5u);
  EXPECT_EQ(check.missing(), 0u);
  EXPECT_EQ(check.outOfOrder(), 0u);
  EXPECT_FALSE(check.identical());
  EXPECT_TRUE(check.atLeastOnce()) << check.describe();
}

TEST(MirrorCheckTest, IdenticalSourceRecordsNeedOneCopyEach) {
  // given: the source holds the same record twice (a producer retry without idempotence)
  Partition source = partition(0, 5);
  source.push_back(source[2]);
  // when: the target has it only once
  Partition once = source;
  once.pop_back();
  const MirrorCheck missing_one = checkMirror("t", {source}, "t", {mirrored(once)});
  // and when: the target has it twice, like the source
  const MirrorCheck both = checkMirror("t", {source}, "t", {mirrored(source)});
  // then
  EXPECT_EQ(missing_one.missing(), 1u);
  EXPECT_EQ(missing_one.duplicates(), 0u);
  EXPECT_TRUE(both.identical()) << both.describe();
}

TEST(MirrorCheckTest, ReorderedRecordsAreOutOfOrder) {
  // given: records 3 and 4 swapped on the target
  const std::vector<Partition> source = {partition(0, 10)};
  Partition target = source[0];
  std::swap(target[3], target[4]);
  // when
  const MirrorCheck check = checkMirror("orders", source, "orders", {mirrored(target)});
  // then
  EXPECT_EQ(check.outOfOrder(), 1u);
  EXPECT_EQ(check.missing(), 0u);
  EXPECT_EQ(check.duplicates(), 0u);
  EXPECT_FALSE(check.identical());
  EXPECT_FALSE(check.atLeastOnce());
}

TEST(MirrorCheckTest, ChangedFieldsMakeUnexpectedRecords) {
  // given: one target record per changed field
  const std::vector<Partition> source = {partition(0, 6)};
  Partition target = source[0];
  target[0].value = "{\"id\":999}";
  target[1].key.reset();
  target[2].timestamp += 1;
  target[3].headers[0].second = "other";
  target[4].headers.pop_back();
  target[5].timestamp_type = 2;
  // when
  const MirrorCheck check = checkMirror("orders", source, "orders", {target});
  // then
  EXPECT_EQ(check.unexpected(), 6u);
  EXPECT_EQ(check.missing(), 6u);
  EXPECT_FALSE(check.atLeastOnce());
}

TEST(MirrorCheckTest, NullAndEmptyAreDifferent) {
  // given: a tombstone (null value) on the source, an empty value on the target
  Partition source = partition(0, 1);
  source[0].value.reset();
  source[0].headers[1].second.reset();  // null header value
  Partition empty_value = source;
  empty_value[0].value = "";
  Partition empty_header = source;
  empty_header[0].headers[1].second = "";
  // when / then
  EXPECT_TRUE(checkMirror("t", {source}, "t", {mirrored(source)}).identical());
  EXPECT_EQ(checkMirror("t", {source}, "t", {empty_value}).unexpected(), 1u);
  EXPECT_EQ(checkMirror("t", {source}, "t", {empty_header}).unexpected(), 1u);
}

TEST(MirrorCheckTest, OnlyCausewayHeadersAreIgnoredOnTheTarget) {
  // given
  const std::vector<Partition> source = {partition(0, 3)};
  Partition with_causeway = mirrored(source[0]);
  with_causeway[1].headers.insert(with_causeway[1].headers.begin(), {"causeway-offset", "1"});
  Partition with_other = source[0];
  with_other[1].headers.emplace_back("causeway", "not a causeway- header");
  // when
  const MirrorCheck ignored = checkMirror("t", source, "t", {with_causeway});
  const MirrorCheck counted = checkMirror("t", source, "t", {with_other});
  // then
  EXPECT_TRUE(ignored.identical()) << ignored.describe();
  EXPECT_EQ(counted.unexpected(), 1u);
  EXPECT_EQ(counted.missing(), 1u);
}

TEST(MirrorCheckTest, HeaderOrderMatters) {
  // given
  const std::vector<Partition> source = {partition(0, 1)};
  Partition target = source[0];
  std::swap(target[0].headers[0], target[0].headers[1]);
  // when
  const MirrorCheck check = checkMirror("t", source, "t", {target});
  // then
  EXPECT_EQ(check.unexpected(), 1u);
}

TEST(MirrorCheckTest, RecordInTheWrongPartitionIsMissingAndUnexpected) {
  // given: the last record of partition 0 landed in partition 1
  const std::vector<Partition> source = {partition(0, 4), partition(10, 4)};
  Partition t0(source[0].begin(), source[0].end() - 1);
  Partition t1 = source[1];
  t1.push_back(source[0].back());
  // when
  const MirrorCheck check = checkMirror("t", source, "t", {t0, t1});
  // then
  EXPECT_EQ(check.partitions[0].missing, 1u);
  EXPECT_EQ(check.partitions[1].unexpected, 1u);
  EXPECT_FALSE(check.identical());
}

TEST(MirrorCheckTest, PartitionCountMismatchIsNotIdentical) {
  // given: the target has an extra, empty partition
  const std::vector<Partition> source = {partition(0, 4)};
  const std::vector<Partition> target = {source[0], {}};
  // when
  const MirrorCheck check = checkMirror("t", source, "t", target);
  // then
  EXPECT_FALSE(check.partition_count_matches);
  EXPECT_FALSE(check.identical());
  EXPECT_TRUE(check.atLeastOnce());
  EXPECT_NE(check.describe().find("partition counts differ"), std::string::npos);
}

TEST(MirrorCheckTest, FewerTargetPartitionsMeansMissingRecords) {
  // given
  const std::vector<Partition> source = {partition(0, 4), partition(10, 3)};
  // when
  const MirrorCheck check = checkMirror("t", source, "t", {source[0]});
  // then
  EXPECT_EQ(check.missing(), 3u);
  EXPECT_FALSE(check.atLeastOnce());
}

TEST(MirrorCheckTest, DescribeNamesEveryPartitionAndTheTotal) {
  // given
  const std::vector<Partition> source = {partition(0, 2), partition(5, 2)};
  Partition t1 = source[1];
  t1.pop_back();
  // when
  const std::string text = checkMirror("orders", source, "east.orders", {source[0], t1}).describe();
  // then
  EXPECT_NE(text.find("orders -> east.orders"), std::string::npos) << text;
  EXPECT_NE(text.find("partition 0: source 2, target 2"), std::string::npos) << text;
  EXPECT_NE(text.find("partition 1: source 2, target 1, missing 1"), std::string::npos) << text;
  EXPECT_NE(text.find("total: source 4, target 3"), std::string::npos) << text;
}

} // namespace
} // namespace causeway::verify
