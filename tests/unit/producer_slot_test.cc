// The transactional.id that moves with a source partition: what the next owner's
// init_transactions fences on the target.

#include "replicator/producer_slot.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <tuple>

namespace causeway::replicator {
namespace {

TEST(TransactionalId, NamesTheLinkTheTopicAndThePartition) {
  EXPECT_EQ(transactionalId("east-to-west", "orders", 3), "causeway:east-to-west:orders:3");
  // Stable: every worker, and the same worker after a restart, uses the same id.
  EXPECT_EQ(transactionalId("east-to-west", "orders", 3),
            transactionalId("east-to-west", "orders", 3));
}

TEST(TransactionalId, DifferentPartitionsNeverShareAnId) {
  // Names may hold '-', '.' and '_': joined with '-' these triples would collide, and one
  // partition's owner would fence another partition's.
  const std::tuple<std::string, std::string, int32_t> triples[] = {
      {"a-b", "c", 0}, {"a", "b-c", 0}, {"a", "b", 0},   {"a", "b", 1},   {"a", "b", 10},
      {"a", "b-1", 0}, {"a.b", "c", 0}, {"a", "b.c", 0}, {"a_b", "c", 0}, {"a", "b_c", 0},
      {"a", "b", 11},  {"ab", "c", 0},  {"a", "bc", 0},
  };
  std::set<std::string> ids;
  for (const auto& [link, topic, partition] : triples) {
    EXPECT_TRUE(ids.insert(transactionalId(link, topic, partition)).second)
        << link << " " << topic << " " << partition;
  }
}

}  // namespace
}  // namespace causeway::replicator
