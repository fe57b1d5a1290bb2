#include "pipeline/record.h"
#include "pipeline/stage_chain.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace causeway::pipeline {
namespace {

RecordView sampleView() {
  RecordView view;
  view.topic = "orders";
  view.partition = 2;
  view.offset = 41;
  view.key = "k1";
  view.value = "v1";
  view.timestamp = 1000;
  view.timestamp_type = TimestampType::kCreateTime;
  view.headers = {{"a", "1"}, {"b", std::nullopt}, {"a", "2"}, {"c", ""}};
  return view;
}

std::vector<std::string> headersOf(const Record& record) {
  std::vector<std::string> out;
  record.forEachHeader([&](std::string_view name, std::optional<std::string_view> value) {
    out.push_back(std::string(name) + "=" + (value ? std::string(*value) : "<null>"));
  });
  return out;
}

TEST(PipelineRecord, UnchangedRecordReadsTheSourceBytes) {
  const RecordView view = sampleView();
  Record record;
  record.reset(&view);
  EXPECT_EQ(record.key(), view.key);
  EXPECT_EQ(record.value()->data(), view.value->data());  // the same bytes, not a copy
  EXPECT_FALSE(record.keyChanged() || record.valueChanged() || record.headersChanged());
  EXPECT_EQ(headersOf(record), (std::vector<std::string>{"a=1", "b=<null>", "a=2", "c="}));
  EXPECT_EQ(record.header("a"), std::optional<std::optional<std::string_view>>("2"));
  ASSERT_TRUE(record.header("b").has_value());
  EXPECT_FALSE(record.header("b")->has_value());  // present, null value
  EXPECT_FALSE(record.header("zzz").has_value());
}

TEST(PipelineRecord, RewritesAreOwnedAndResetForTheNextRecord) {
  const RecordView view = sampleView();
  Record record;
  record.reset(&view);
  record.rewriteValue() = "new value";
  record.setNullKey();
  record.setTimestamp(5);
  EXPECT_EQ(record.value(), "new value");
  EXPECT_FALSE(record.key().has_value());
  EXPECT_TRUE(record.valueChanged() && record.keyChanged() && record.timestampChanged());

  record.reset(&view);
  EXPECT_EQ(record.value(), "v1");
  EXPECT_EQ(record.key(), "k1");
  EXPECT_EQ(record.timestamp(), 1000);
  EXPECT_FALSE(record.valueChanged() || record.keyChanged() || record.timestampChanged());
}

TEST(PipelineRecord, HeaderEditsRemoveEveryCopyAndAppendInOrder) {
  const RecordView view = sampleView();
  Record record;
  record.reset(&view);
  record.addHeader("x", "first");
  record.removeHeader("a");
  record.addHeader("a", "3");
  record.addHeader("n", std::nullopt);
  record.removeHeader("x");
  EXPECT_EQ(headersOf(record), (std::vector<std::string>{"b=<null>", "c=", "a=3", "n=<null>"}));
  EXPECT_EQ(record.removedCount(), 2u);
  EXPECT_EQ(record.header("a"), std::optional<std::optional<std::string_view>>("3"));

  record.reset(&view);
  EXPECT_FALSE(record.headersChanged());
  EXPECT_EQ(headersOf(record).size(), 4u);
}

class FixedStage : public Stage {
public:
  FixedStage(std::string_view name, Verdict verdict) : name_(name), verdict_(std::move(verdict)) {}
  std::string_view name() const override { return name_; }
  Verdict process(Record&) override {
    calls += 1;
    return verdict_;
  }
  int calls = 0;

private:
  std::string_view name_;
  Verdict verdict_;
};

TEST(PipelineStageChain, StopsAtTheFirstDecisionAndCountsIt) {
  std::vector<StagePtr> stages;
  stages.push_back(std::make_unique<FixedStage>("first", Verdict::pass()));
  stages.push_back(std::make_unique<FixedStage>("filter", Verdict::drop("filtered", "p.filter")));
  auto last = std::make_unique<FixedStage>("last", Verdict::pass());
  FixedStage* last_ptr = last.get();
  stages.push_back(std::move(last));
  StageChain chain(std::move(stages));

  const RecordView view = sampleView();
  Record record;
  for (int i = 0; i < 3; ++i) {
    record.reset(&view);
    const Verdict verdict = chain.process(record);
    EXPECT_EQ(verdict.outcome, Outcome::kDrop);
    EXPECT_EQ(chain.decidedBy(), "filter");
  }
  EXPECT_EQ(last_ptr->calls, 0);
  const auto counts = chain.counts();
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].stage, "filter");
  EXPECT_EQ(counts[0].reason, "filtered");
  EXPECT_EQ(counts[0].rule, "p.filter");
  EXPECT_EQ(counts[0].records, 3u);
}

TEST(PipelineStageChain, RetryIsNotCountedAsADecision) {
  StageChain chain;
  chain.add(std::make_unique<FixedStage>(
      "contract",
      Verdict::retry("registry-down", "registry unreachable", std::chrono::milliseconds(500))));
  const RecordView view = sampleView();
  Record record;
  record.reset(&view);
  EXPECT_EQ(chain.process(record).outcome, Outcome::kRetry);
  EXPECT_TRUE(chain.counts().empty());
}

TEST(PipelineStageChain, EmptyChainPasses) {
  StageChain chain;
  const RecordView view = sampleView();
  Record record;
  record.reset(&view);
  EXPECT_EQ(chain.process(record).outcome, Outcome::kPass);
}

}  // namespace
}  // namespace causeway::pipeline
