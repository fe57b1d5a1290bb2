#include "kafka/error_kind.h"

namespace causeway::kafka {

ErrorKind readErrorKind(rd_kafka_resp_err_t err) {
  switch (err) {
  // The client's own: no answer, no connection, no leader known yet.
  case RD_KAFKA_RESP_ERR__TIMED_OUT:
  case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
  case RD_KAFKA_RESP_ERR__TRANSPORT:
  case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
  case RD_KAFKA_RESP_ERR__RESOLVE:
  case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
  case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
  case RD_KAFKA_RESP_ERR__WAIT_COORD:
  // The broker's: leadership moving, a replica or the broker busy or restarting.
  case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
  case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
  case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
  case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
  case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
  case RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE:
  case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
  case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
  case RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE:
  case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:  // retention moved the start meanwhile
  case RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH:
  case RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH:
  case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
  case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
  case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
  case RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED:
  case RD_KAFKA_RESP_ERR_UNKNOWN:  // UNKNOWN_SERVER_ERROR (-1): Kafka's clients retry it too
    return ErrorKind::kUnavailable;
  case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
  case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
  case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
  case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
  case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    return ErrorKind::kPermissionDenied;
  default:
    return ErrorKind::kUnknown;
  }
}

ErrorKind watermarkQueryErrorKind(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__BAD_MSG ? ErrorKind::kUnavailable : readErrorKind(err);
}

}  // namespace causeway::kafka
