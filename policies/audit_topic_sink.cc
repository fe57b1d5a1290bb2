#include "policies/audit_topic_sink.h"

#include "kafka/client_factory.h"
#include "kafka/handles.h"
#include "kafka/topic_admin.h"

#include <nlohmann/json.hpp>

#include <chrono>

namespace causeway::policies {
namespace {

constexpr std::chrono::milliseconds kCreateTimeout{30000};
constexpr int kAckTimeoutMs = 10000;

class KafkaAuditSink final : public AuditSink {
public:
  KafkaAuditSink(const config::ClusterConfig& cluster, std::string topic)
      : cluster_(kafka::describeCluster(cluster)), topic_(std::move(topic)) {}

  ~KafkaAuditSink() override {
    handle_.reset();
    producer_.reset();
  }

  Status open(const config::ClusterConfig& cluster) {
    kafka::ClientSpec spec;
    spec.type = RD_KAFKA_PRODUCER;
    spec.cluster = &cluster;
    spec.client_id = "causeway-audit";
    spec.defaults = {{"linger.ms", "0"}, {"message.timeout.ms", "30000"}};
    spec.owned = {{"enable.idempotence", "true"}, {"acks", "all"}};
    spec.configure = [this](rd_kafka_conf_t* conf) {
      rd_kafka_conf_set_opaque(conf, this);
      rd_kafka_conf_set_dr_msg_cb(conf, &KafkaAuditSink::onDelivery);
    };
    auto producer = kafka::makeClient(spec);
    if (!producer) {
      return producer.error();
    }
    producer_ = std::move(*producer);
    handle_.reset(rd_kafka_topic_new(producer_.get(), topic_.c_str(), nullptr));
    return {};
  }

  Status write(std::string_view line) override {
    // The key: the line's policy (lines are JSON objects written by auditLine()).
    const auto parsed = nlohmann::json::parse(line, nullptr, false);
    const std::string key =
        parsed.is_object() ? parsed.value("policy", std::string()) : std::string();
    pending_ = true;
    last_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        producer_.get(), RD_KAFKA_V_RKT(handle_.get()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key.data(), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(line.data()), line.size()), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      pending_ = false;
      return failed(err);
    }
    rd_kafka_flush(producer_.get(), kAckTimeoutMs);
    if (pending_) {
      // Not acknowledged in time: withdraw it, so it cannot land after the next window's line
      // that carries its counts again.
      rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      rd_kafka_poll(producer_.get(), 0);
      return Error{"audit topic '" + topic_ + "' on " + cluster_ + ": no acknowledgement within " +
                   std::to_string(kAckTimeoutMs / 1000) + " s"};
    }
    return last_error_ == RD_KAFKA_RESP_ERR_NO_ERROR ? Status{} : failed(last_error_);
  }

private:
  static void onDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
    auto* self = static_cast<KafkaAuditSink*>(opaque);
    self->pending_ = false;
    self->last_error_ = message->err;
  }

  Status failed(rd_kafka_resp_err_t err) const {
    return Error{"audit topic '" + topic_ + "' on " + cluster_ + ": " + rd_kafka_err2str(err)};
  }

  std::string cluster_;
  std::string topic_;
  kafka::HandlePtr producer_;
  kafka::TopicPtr handle_;
  bool pending_ = false;
  rd_kafka_resp_err_t last_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;
};

}  // namespace

Result<std::unique_ptr<AuditSink>> openAuditTopic(const config::ClusterConfig& cluster,
                                                  const std::string& topic) {
  kafka::TopicAdminPtr admin = kafka::makeTopicAdmin(cluster);
  if (!admin) {
    return Error{"cannot reach " + kafka::describeCluster(cluster) + " for the audit topic"};
  }
  if (auto created = admin->ensureTopic(topic, 1, kCreateTimeout); !created) {
    return Error{"cannot create the audit topic '" + topic + "' on " +
                 kafka::describeCluster(cluster) + ": " + created.error().message};
  }
  auto sink = std::make_unique<KafkaAuditSink>(cluster, topic);
  if (Status opened = sink->open(cluster); !opened.ok()) {
    return opened.error();
  }
  return std::unique_ptr<AuditSink>(std::move(sink));
}

AuditTopicFactory auditTopicFactory() { return &openAuditTopic; }

}  // namespace causeway::policies
