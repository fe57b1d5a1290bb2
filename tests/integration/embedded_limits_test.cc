// What the embedded clusters (librdkafka 2.0.2's mock) do NOT enforce, pinned as tests so the
// claims in docs/failover.md and shared/EMBEDDED_KAFKA.md stay measured facts. Each test
// asserts the mock's current behaviour; if one starts failing, the mock gained the feature and
// the test that could only be argued (see zombie_fencing_test.cc) can run here too.

#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>

namespace causeway {
namespace {

using namespace std::chrono_literals;

struct ErrorDeleter {
  void operator()(rd_kafka_error_t* e) const { rd_kafka_error_destroy(e); }
};
using ErrorPtr = std::unique_ptr<rd_kafka_error_t, ErrorDeleter>;
struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using HandlePtr = std::unique_ptr<rd_kafka_t, HandleDeleter>;

HandlePtr transactionalProducer(const std::string& bootstrap, const std::string& id) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
  rd_kafka_conf_set(conf, "transactional.id", id.c_str(), err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  EXPECT_NE(rk, nullptr) << err;
  return HandlePtr(rk);
}

std::string text(const ErrorPtr& e) { return e ? rd_kafka_error_string(e.get()) : "ok"; }

ErrorPtr produceOne(rd_kafka_t* rk, const std::string& value) {
  return ErrorPtr(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("ledger"), RD_KAFKA_V_PARTITION(0),
                                    RD_KAFKA_V_VALUE(const_cast<char*>(value.data()),
                                                     value.size()),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) ==
                          RD_KAFKA_RESP_ERR_NO_ERROR
                      ? nullptr
                      : rd_kafka_error_new(RD_KAFKA_RESP_ERR__FAIL, "produce refused"));
}

// On Kafka, init_transactions by a second producer with the same transactional.id bumps the
// epoch: the first producer's open transaction is aborted and its next produce or commit fails
// with PRODUCER_FENCED, so a zombie can never add to the log again. The embedded clusters let
// the zombie commit, and its record lands after the new owner's.
TEST(EmbeddedClusterLimits, ASecondProducerWithTheSameTransactionalIdDoesNotFenceTheFirst) {
  auto cluster = testing::startCluster("txn", 3, {{"ledger", 1}});
  ASSERT_TRUE(cluster);
  auto zombie = transactionalProducer(cluster->bootstrap(), "causeway-fencing-probe");
  ASSERT_EQ(text(ErrorPtr(rd_kafka_init_transactions(zombie.get(), 30000))), "ok");
  ASSERT_EQ(text(ErrorPtr(rd_kafka_begin_transaction(zombie.get()))), "ok");
  ASSERT_EQ(text(produceOne(zombie.get(), "zombie-1")), "ok");
  ASSERT_EQ(rd_kafka_flush(zombie.get(), 30000), RD_KAFKA_RESP_ERR_NO_ERROR);

  auto owner = transactionalProducer(cluster->bootstrap(), "causeway-fencing-probe");
  ASSERT_EQ(text(ErrorPtr(rd_kafka_init_transactions(owner.get(), 30000))), "ok");
  ASSERT_EQ(text(ErrorPtr(rd_kafka_begin_transaction(owner.get()))), "ok");
  ASSERT_EQ(text(produceOne(owner.get(), "owner-1")), "ok");
  ASSERT_EQ(text(ErrorPtr(rd_kafka_commit_transaction(owner.get(), 30000))), "ok");

  // Kafka: PRODUCER_FENCED here. The mock: both succeed.
  EXPECT_EQ(text(produceOne(zombie.get(), "zombie-2")), "ok");
  EXPECT_EQ(text(ErrorPtr(rd_kafka_commit_transaction(zombie.get(), 30000))), "ok");

  std::vector<std::string> values;
  const auto ledger = testing::readAll(cluster->bootstrap(), "ledger");
  ASSERT_EQ(ledger.size(), 1u);
  for (const auto& record : ledger[0]) {
    values.push_back(record.value.value_or("<null>"));
  }
  // The zombie's records are all there, the last one after the new owner's: nothing was fenced
  // and nothing was hidden.
  EXPECT_EQ(values, (std::vector<std::string>{"zombie-1", "owner-1", "zombie-2"}));
}

} // namespace
} // namespace causeway
