#include "replicator/dead_letter_writer.h"

#include "kafka/client_factory.h"

#include <algorithm>

namespace causeway::replicator {
namespace {

void addHeader(rd_kafka_headers_t* headers, std::string_view name, std::string_view value) {
  rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                      static_cast<ssize_t>(value.size()));
}

}  // namespace

DeadLetterWriter::DeadLetterWriter(const config::LinkConfig& link,
                                   const config::ClusterConfig& cluster, DeliveryListener& listener)
    : link_(link), cluster_(cluster), listener_(listener), topic_(link.deadLetterTopic()) {}

DeadLetterWriter::~DeadLetterWriter() {
  handle_.reset();
  producer_.reset();
}

Status DeadLetterWriter::open(kafka::TopicAdmin& admin, std::chrono::milliseconds timeout) {
  auto partitions = admin.ensureTopic(topic_, 1, timeout);
  if (!partitions) {
    return Error{"cannot create the dead-letter topic '" + topic_ + "' on " +
                 kafka::describeCluster(cluster_) + ": " + partitions.error().message};
  }
  partitions_ = std::max(1, *partitions);
  kafka::ClientSpec spec;
  spec.type = RD_KAFKA_PRODUCER;
  spec.cluster = &cluster_;
  spec.client_id = "causeway-" + link_.name + "-dlq";
  spec.defaults = {{"linger.ms", "5"}, {"message.timeout.ms", "0"}};
  spec.owned = {{"enable.idempotence", "true"}, {"acks", "all"}};
  spec.configure = [this](rd_kafka_conf_t* conf) {
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_dr_msg_cb(conf, &DeadLetterWriter::deliveryCallback);
  };
  auto producer = kafka::makeClient(spec);
  if (!producer) {
    return producer.error();
  }
  producer_ = std::move(*producer);
  handle_.reset(rd_kafka_topic_new(producer_.get(), topic_.c_str(), nullptr));
  return {};
}

Status DeadLetterWriter::write(const pipeline::RecordView& view, const DeadLetterReason& why,
                               OffsetTracker::Entry& entry) {
  rd_kafka_headers_t* headers = rd_kafka_headers_new(view.headers.size() + 6);
  for (const pipeline::HeaderView& h : view.headers) {
    rd_kafka_header_add(headers, h.name.data(), static_cast<ssize_t>(h.name.size()),
                        h.value ? h.value->data() : nullptr,
                        h.value ? static_cast<ssize_t>(h.value->size()) : 0);
  }
  return produce(view, headers, why, entry);
}

Status DeadLetterWriter::write(const pipeline::RecordView& view, const rd_kafka_headers_t* headers,
                               const DeadLetterReason& why, OffsetTracker::Entry& entry) {
  rd_kafka_headers_t* copy =
      headers != nullptr ? rd_kafka_headers_copy(headers) : rd_kafka_headers_new(6);
  return produce(view, copy, why, entry);
}

Status DeadLetterWriter::produce(const pipeline::RecordView& view, rd_kafka_headers_t* headers,
                                 const DeadLetterReason& why, OffsetTracker::Entry& entry) {
  for (std::string_view name :
       {kDlqReasonHeader, kDlqRuleHeader, kDlqLinkHeader, kDlqSourceTopicHeader,
        kDlqSourcePartitionHeader, kDlqSourceOffsetHeader}) {
    rd_kafka_header_remove(headers, name.data());
  }
  number_buffer_ = std::string(why.reason);
  if (!why.detail.empty()) {
    number_buffer_ += ": ";
    number_buffer_ += why.detail;
  }
  addHeader(headers, kDlqReasonHeader, number_buffer_);
  addHeader(headers, kDlqRuleHeader, why.rule);
  addHeader(headers, kDlqLinkHeader, link_.name);
  addHeader(headers, kDlqSourceTopicHeader, view.topic);
  number_buffer_ = std::to_string(view.partition);
  addHeader(headers, kDlqSourcePartitionHeader, number_buffer_);
  number_buffer_ = std::to_string(view.offset);
  addHeader(headers, kDlqSourceOffsetHeader, number_buffer_);

  rd_kafka_vu_t vus[8];
  size_t n = 0;
  vus[n].vtype = RD_KAFKA_VTYPE_RKT;
  vus[n++].u.rkt = handle_.get();
  vus[n].vtype = RD_KAFKA_VTYPE_PARTITION;
  vus[n++].u.i32 = view.partition % partitions_;
  vus[n].vtype = RD_KAFKA_VTYPE_KEY;
  vus[n].u.mem.ptr = view.key ? const_cast<char*>(view.key->data()) : nullptr;
  vus[n++].u.mem.size = view.key ? view.key->size() : 0;
  vus[n].vtype = RD_KAFKA_VTYPE_VALUE;
  vus[n].u.mem.ptr = view.value ? const_cast<char*>(view.value->data()) : nullptr;
  vus[n++].u.mem.size = view.value ? view.value->size() : 0;
  vus[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;  // the source message is freed after this call
  vus[n++].u.i32 = RD_KAFKA_MSG_F_COPY;
  vus[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
  vus[n++].u.ptr = &entry;
  if (view.timestamp >= 0) {
    vus[n].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
    vus[n++].u.i64 = view.timestamp;
  }
  vus[n].vtype = RD_KAFKA_VTYPE_HEADERS;
  vus[n++].u.headers = headers;
  while (true) {
    rd_kafka_error_t* error = rd_kafka_produceva(producer_.get(), vus, n);
    if (error == nullptr) {
      in_flight_ += 1;
      return {};
    }
    if (rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_error_destroy(error);
      rd_kafka_poll(producer_.get(), 10);
      continue;
    }
    rd_kafka_headers_destroy(headers);
    return Error{"cannot write " + std::string(view.topic) + "[" + std::to_string(view.partition) +
                     "]@" + std::to_string(view.offset) + " to the dead-letter topic '" + topic_ +
                     "' on " + kafka::describeCluster(cluster_) + ": " + kafka::takeErrorText(error),
                 ErrorKind::kUnavailable};
  }
}

void DeadLetterWriter::poll(int timeout_ms) {
  if (producer_) {
    rd_kafka_poll(producer_.get(), timeout_ms);
  }
}

void DeadLetterWriter::purge() {
  if (producer_) {
    rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  }
}

void DeadLetterWriter::deliveryCallback(rd_kafka_t*, const rd_kafka_message_t* report,
                                        void* opaque) {
  auto* self = static_cast<DeadLetterWriter*>(opaque);
  self->in_flight_ -= 1;
  auto* entry = static_cast<OffsetTracker::Entry*>(report->_private);
  if (report->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    self->listener_.onDelivered(*entry, report->offset);
  } else {
    self->listener_.onNotDelivered(*entry, report->err, *report);
  }
}

}  // namespace causeway::replicator
