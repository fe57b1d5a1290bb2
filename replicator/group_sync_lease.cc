#include "replicator/group_sync_lease.h"

#include "kafka/client_factory.h"
#include "replicator/offset_state.h"

#include <spdlog/spdlog.h>

#include <cstring>

namespace causeway::replicator {

GroupSyncLease::GroupSyncLease(const config::ClusterConfig& target, std::string link)
    : target_(target), link_(std::move(link)), topic_(stateTopic(link_)) {}

GroupSyncLease::~GroupSyncLease() {
  if (consumer_) {
    // Leave the group now, so another worker holds the lease without waiting for a session timeout.
    rd_kafka_consumer_close(consumer_.get());
  }
}

Status GroupSyncLease::open() {
  kafka::ClientSpec spec;
  spec.type = RD_KAFKA_CONSUMER;
  spec.cluster = &target_;
  spec.client_id = "causeway-" + link_ + "-group-sync-lease";
  // A dead holder's lease passes on after the session timeout: Kafka's usual minimum, much shorter
  // than librdkafka's 45 s (the cluster `properties` may set another).
  spec.defaults = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "2000"}};
  spec.owned = {{"group.id", groupId(link_)},
                {"enable.auto.commit", "false"},
                {"enable.auto.offset.store", "false"},
                // Eager: partition 0 is revoked from its holder before anyone else gets it.
                {"partition.assignment.strategy", "range"},
                {"auto.offset.reset", "latest"}};
  spec.configure = [this](rd_kafka_conf_t* conf) {
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_rebalance_cb(conf, &GroupSyncLease::rebalanceCallback);
  };
  auto consumer = kafka::makeClient(spec);
  if (!consumer) {
    return consumer.error();
  }
  consumer_ = std::move(*consumer);
  rd_kafka_poll_set_consumer(consumer_.get());
  kafka::PartitionListPtr topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), topic_.c_str(), RD_KAFKA_PARTITION_UA);
  if (rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer_.get(), topics.get())) {
    return Error{"link '" + link_ + "': joining the group-sync lease group '" + groupId(link_) +
                 "' on " + kafka::describeCluster(target_) + ": " + rd_kafka_err2str(err)};
  }
  return {};
}

bool GroupSyncLease::held() {
  if (!consumer_) {
    return false;
  }
  // Serves the join, heartbeat results and rebalances; the partition is paused, so no record
  // arrives, only events (errors are logged by the client and retried by it).
  for (int i = 0; i < 100; ++i) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer_.get(), 0);
    if (message == nullptr) {
      break;
    }
    rd_kafka_message_destroy(message);
  }
  return held_;
}

void GroupSyncLease::rebalanceCallback(rd_kafka_t*, rd_kafka_resp_err_t err,
                                       rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  static_cast<GroupSyncLease*>(opaque)->onRebalance(err, partitions);
}

void GroupSyncLease::onRebalance(rd_kafka_resp_err_t err,
                                 rd_kafka_topic_partition_list_t* partitions) {
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    bool holds = false;
    for (int i = 0; i < partitions->cnt; ++i) {
      holds = holds || (partitions->elems[i].partition == 0 &&
                        std::strcmp(partitions->elems[i].topic, topic_.c_str()) == 0);
    }
    rd_kafka_assign(consumer_.get(), partitions);
    rd_kafka_pause_partitions(consumer_.get(),
                              partitions);  // a lease, not a reader
    if (holds != held_) {
      spdlog::info("link '{}': this worker {} the consumer-group sync", link_,
                   holds ? "now runs" : "no longer runs");
    }
    held_ = holds;
    assigned_ = true;
    return;
  }
  // Revoked (or lost): stop before anyone else can be given the lease.
  held_ = false;
  assigned_ = false;
  rd_kafka_assign(consumer_.get(), nullptr);
}

}  // namespace causeway::replicator
