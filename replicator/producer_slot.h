#pragma once

#include "kafka/handles.h"

#include <cstdint>
#include <string>

namespace causeway::replicator {

class TargetWriter;

// One producer on the target and the topic handles it writes through.
//
// A non-transactional link writes every partition through one slot. A transactional link gives
// each source partition it owns a slot of its own, whose transactional.id names the partition
// (transactionalId()): the next owner's init_transactions bumps that id's epoch on the target,
// which aborts the old owner's open transaction and fences every later write or commit of it.
struct ProducerSlot {
  TargetWriter* writer = nullptr;  // the producer's opaque points here; callbacks reach the writer
  kafka::HandlePtr producer;       // declared first: destroyed after the topic handles
  kafka::TopicPtr mirror_handle;   // per-partition slots: the mirror topic on this producer
  kafka::TopicPtr state_handle;    // the state topic on this producer
  std::string transactional_id;    // empty: not transactional
  std::string mirror_topic;
  int32_t partition = -1;
  bool in_transaction = false;
  // A commit that ran out of time (or failed retriably) is still under way in librdkafka: the
  // producer refuses new records until the commit is called again and completes, so the partition
  // waits for the next commit instead of writing.
  bool commit_pending = false;
  // How long one commit may take: the producer's transaction.timeout.ms (see commitLimitMs()).
  int commit_limit_ms = 60000;
  // Set while the slot is given up: its fatal errors (the next owner fenced it) are expected and
  // do not stop the link.
  bool releasing = false;
  uint64_t produce_retries = 0;  // from the producer's statistics
};

// The transactional.id of one source partition of a link: stable across workers and restarts, so
// the worker that takes the partition over fences the one that had it. Link and topic names hold
// only [A-Za-z0-9._-], so ':' keeps different (link, topic, partition) triples apart.
std::string transactionalId(const std::string& link, const std::string& source_topic,
                            int32_t partition);

}  // namespace causeway::replicator
