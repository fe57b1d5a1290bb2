#pragma once

#include "common/result.h"

#include <librdkafka/rdkafka.h>

namespace causeway::kafka {

// What an error of a read from a cluster (metadata, watermarks, fetch) means to a caller that may
// ask again: one that passes by itself (no leader, a timeout, a topic or partition not known yet,
// a broker restarting) is kUnavailable; an authorization refusal stays until someone changes the
// ACLs (kPermissionDenied); anything else (a corrupt batch, an unsupported version or
// compression, a bad argument) will not pass by asking again either (kUnknown).
ErrorKind readErrorKind(rd_kafka_resp_err_t err);

// readErrorKind for the answer of rd_kafka_query_watermark_offsets. In librdkafka 2.0.2 a
// ListOffsets request that failed (a timeout, a connection lost) leaves the partition out of the
// parsed answer, and the call then reports __BAD_MSG ("partition missing from the answer")
// instead of the failure: here that means no answer, not a corrupt one.
ErrorKind watermarkQueryErrorKind(rd_kafka_resp_err_t err);

}  // namespace causeway::kafka
