#pragma once

#include "common/result.h"

#include <librdkafka/rdkafka.h>

namespace causeway::kafka {

// What an error of a read from a cluster (metadata, watermarks, fetch) means to a caller that may
// ask again: an authorization refusal stays until someone changes the ACLs
// (kPermissionDenied); anything else (no leader, a timeout, a topic not known yet, a broker
// restarting) may pass (kUnavailable).
ErrorKind readErrorKind(rd_kafka_resp_err_t err);

}  // namespace causeway::kafka
