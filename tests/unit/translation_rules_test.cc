// The decisions of offset translation and failover lag
// (replicator/translation_rules.h): where a group resumes on the target, when
// it must wait, and the first copies of an at-least-once link.

#include "replicator/translation_rules.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

namespace causeway::replicator {
namespace {

// A mirror partition [0, 200) where the link's last readable record is target
// 150 (source 99).
MirrorView view(int64_t accounted_end = -1) {
  MirrorView v;
  v.low = 0;
  v.stable = 200;
  v.high = 200;
  v.last_target = 150;
  v.last_source = 99;
  v.accounted_end = accounted_end;
  return v;
}

TEST(TranslationRules, ACopyOfTheNextRecordIsTheAnswer) {
  const auto decision = decideResume(40, 91, view());
  EXPECT_EQ(decision.target_offset, 91);
  EXPECT_EQ(decision.reason, ResumeReason::kCopy);
}

TEST(TranslationRules, AtThePartitionsEndTheGroupResumesRightAfterTheLinksLastRecord) {
  // given: the group read everything the link wrote (source 0-99); foreign
  // records sit at target 151-199 after the link's last one when
  const auto decision = decideResume(100, std::nullopt, view());
  // then: the foreign records are read (perhaps again), none is skipped
  EXPECT_EQ(decision.target_offset, 151);
  EXPECT_EQ(decision.reason, ResumeReason::kAfterLastRecord);
}

TEST(TranslationRules, SkippedRecordsAtTheEndAreAccountedFor) {
  // given: source 100-119 were not written (they came from the target, or a
  // stage dropped them, or 119 is a transaction marker) and the state says so
  // when: the group committed past them
  const auto accounted = decideResume(120, std::nullopt, view(/*accounted_end=*/120));
  const auto unknown = decideResume(120, std::nullopt, view(/*accounted_end=*/-1));
  // then: with the accounted end the position translates; without it, it waits
  EXPECT_EQ(accounted.target_offset, 151);
  EXPECT_EQ(accounted.reason, ResumeReason::kAfterLastRecord);
  EXPECT_EQ(unknown.target_offset, -1);
  EXPECT_EQ(unknown.reason, ResumeReason::kNotYetReplicated);
}

TEST(TranslationRules, APositionPastTheAccountedEndWaits) {
  const auto decision = decideResume(121, std::nullopt, view(/*accounted_end=*/120));
  EXPECT_EQ(decision.target_offset, -1);
  EXPECT_EQ(decision.reason, ResumeReason::kNotYetReplicated);
}

TEST(TranslationRules, NoRecordOfTheLinkAtAllResumesAtThePartitionsStart) {
  // given: every source record came from the target (all loop-skipped), the
  // partition holds only foreign records [30, 200)
  MirrorView v;
  v.low = 30;
  v.stable = 200;
  v.high = 200;
  v.accounted_end = 500;
  // when
  const auto decision = decideResume(500, std::nullopt, v);
  // then
  EXPECT_EQ(decision.target_offset, 30);
  EXPECT_EQ(decision.reason, ResumeReason::kPartitionStart);
  EXPECT_EQ(decideResume(501, std::nullopt, v).target_offset, -1);
}

TEST(TranslationRules, NeverAnswersPastTheLastStableOffset) {
  // given: a transaction is open on the mirror partition from target 160
  // (records up to 199 exist but read_committed consumers cannot read them yet)
  MirrorView v = view(/*accounted_end=*/100);
  v.stable = 160;
  // when: the group's next record was not found below 160
  const auto waiting = decideResume(130, std::nullopt, v);
  // then: no answer, and the reason says records are hidden
  EXPECT_EQ(waiting.target_offset, -1);
  EXPECT_EQ(waiting.reason, ResumeReason::kHiddenByTransaction);
  // and: a copy at or past the stable offset is not an answer either
  EXPECT_EQ(decideResume(130, 170, v).target_offset, -1);
  // and: an accounted position resumes below the stable offset
  const auto accounted = decideResume(100, std::nullopt, v);
  EXPECT_EQ(accounted.target_offset, 151);
  EXPECT_LE(accounted.target_offset, v.stable);
}

TEST(TranslationRules, AfterLastRecordIsClampedToTheReadableRange) {
  MirrorView v = view(/*accounted_end=*/100);
  v.low = 170;  // retention deleted the link's records
  EXPECT_EQ(decideResume(100, std::nullopt, v).target_offset, 170);
  v = view(/*accounted_end=*/100);
  v.stable = 151;  // a transaction opened right after the link's last record
  v.high = 190;
  EXPECT_EQ(decideResume(100, std::nullopt, v).target_offset, 151);
}

TEST(TranslationRules, NoCommittedOffsetHasNoAnswer) {
  EXPECT_EQ(decideResume(-1, std::nullopt, view()).reason, ResumeReason::kNoCommit);
  EXPECT_EQ(decideResume(-1, std::nullopt, view()).target_offset, -1);
}

TEST(TranslationRules, LagCountsFromTheAccountedEnd) {
  // A partition whose last records were skipped: lag 0 once the accounted end
  // reached the source's end, although the last record on the target is older.
  EXPECT_EQ(notYetReplicated(-1, 120, view(/*accounted_end=*/120)), 0);
  EXPECT_EQ(notYetReplicated(-1, 120, view()), 20);
  // The RPO of a group counts only what it has not read.
  EXPECT_EQ(notYetReplicated(110, 120, view()), 10);
  EXPECT_EQ(notYetReplicated(50, 120, view()), 20);
  // Nothing on the target, nothing known: everything from the start.
  EXPECT_EQ(notYetReplicated(-1, 120, MirrorView{}), 120);
}

// ---------------------------------------------------------------------------------------------
// First copies (at-least-once links)
// ---------------------------------------------------------------------------------------------

TEST(FirstCopies, WithoutResendsEveryRecordIsItsOwnFirstCopy) {
  FirstCopies copies;
  for (int64_t i = 0; i < 100; ++i) {
    copies.observe(10 + i, i);
  }
  EXPECT_EQ(copies.runCount(), 1u);
  EXPECT_EQ(copies.firstAtOrAfter(0, 0), 10);
  EXPECT_EQ(copies.firstAtOrAfter(57, 0), 67);
  EXPECT_EQ(copies.firstAtOrAfter(100, 0), std::nullopt);
  EXPECT_EQ(copies.lastTarget(), 109);
  EXPECT_EQ(copies.maxSource(), 99);
}

TEST(FirstCopies, AResentStretchPointsAtTheFirstCopy) {
  // given: source 0-9 at target 0-9, then a restart re-sent 5-14 at target
  // 10-19
  FirstCopies copies;
  for (int64_t i = 0; i < 10; ++i) {
    copies.observe(i, i);
  }
  for (int64_t i = 5; i < 15; ++i) {
    copies.observe(10 + (i - 5), i);
  }
  // then: a group at 7 resumes at the first copy of 7 (target 7): it reads 7-9,
  // then 5-9 again (re-reads), then 10-14; nothing is skipped
  EXPECT_EQ(copies.firstAtOrAfter(7, 0), 7);
  // a group at 10 resumes at the first copy of 10, which is in the re-sent
  // stretch (target 15)
  EXPECT_EQ(copies.firstAtOrAfter(10, 0), 15);
  EXPECT_EQ(copies.lastTarget(), 19);
  EXPECT_EQ(copies.maxSource(), 14);
}

TEST(FirstCopies, ObservingTheSameRecordTwiceChangesNothing) {
  FirstCopies copies;
  copies.observe(5, 1);
  copies.observe(5, 1);
  copies.observe(4, 9);
  EXPECT_EQ(copies.lastTarget(), 5);
  EXPECT_EQ(copies.maxSource(), 1);
}

TEST(FirstCopies, DroppedOldRunsAnswerThePartitionStart) {
  FirstCopies copies;
  // Each observation starts a new run (source gaps), far more than the cap.
  for (int64_t i = 0; i < static_cast<int64_t>(OffsetRuns::kMaxRuns) + 600; ++i) {
    copies.observe(2 * i, 3 * i);
  }
  EXPECT_EQ(copies.firstAtOrAfter(0, 0), 0);  // before the kept runs: the start
  EXPECT_EQ(copies.firstAtOrAfter(3 * 5000 + 1, 0), std::nullopt);
}

// Random re-sends against a model: the first target offset whose source offset
// is >= s.
TEST(FirstCopies, RandomResendsAgainstAModel) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 50; ++round) {
    FirstCopies copies;
    std::vector<std::pair<int64_t, int64_t>> records;  // (target, source)
    int64_t source = 0;
    int64_t committed = 0;
    int64_t target = static_cast<int64_t>(rng() % 5);
    for (int step = 0; step < 400; ++step) {
      const auto roll = rng() % 100;
      if (roll < 5) {
        source = committed + static_cast<int64_t>(rng() % 3);  // a restart re-sends
      } else if (roll < 15) {
        committed = std::max(committed, source - static_cast<int64_t>(rng() % 4));
      } else if (roll < 20) {
        source += 1 + static_cast<int64_t>(rng() % 5);  // skipped records
      }
      if (roll < 25 && rng() % 2 == 0) {
        target += 1;  // a foreign record
      }
      records.emplace_back(target, source);
      copies.observe(target, source);
      target += 1;
      source += 1;
    }
    for (int64_t s = 0; s <= source + 1; ++s) {
      std::optional<int64_t> want;
      for (const auto& [t, src] : records) {
        if (src >= s) {
          want = t;
          break;
        }
      }
      ASSERT_EQ(copies.firstAtOrAfter(s, 0), want) << "round " << round << " source " << s;
    }
  }
}

}  // namespace
}  // namespace causeway::replicator
