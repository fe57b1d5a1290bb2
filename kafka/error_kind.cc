#include "kafka/error_kind.h"

namespace causeway::kafka {

ErrorKind readErrorKind(rd_kafka_resp_err_t err) {
  switch (err) {
  case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
  case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
  case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
  case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
  case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    return ErrorKind::kPermissionDenied;
  default:
    return ErrorKind::kUnavailable;
  }
}

}  // namespace causeway::kafka
