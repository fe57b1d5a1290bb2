// What a failed read from a cluster means to a caller that may ask again.

#include "kafka/error_kind.h"

#include <gtest/gtest.h>

namespace causeway::kafka {
namespace {

TEST(ReadErrorKind, WhatPassesByItselfIsUnavailable) {
  for (auto err :
       {RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__TRANSPORT,
        RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION,
        RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE,
        RD_KAFKA_RESP_ERR_UNKNOWN}) {
    EXPECT_EQ(readErrorKind(err), ErrorKind::kUnavailable) << rd_kafka_err2name(err);
  }
}

TEST(ReadErrorKind, RefusalsArePermissionDenied) {
  for (auto err :
       {RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
        RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED,
        RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED, RD_KAFKA_RESP_ERR__AUTHENTICATION}) {
    EXPECT_EQ(readErrorKind(err), ErrorKind::kPermissionDenied) << rd_kafka_err2name(err);
  }
}

TEST(ReadErrorKind, WhatAskingAgainCannotChangeIsNotUnavailable) {
  for (auto err :
       {RD_KAFKA_RESP_ERR__BAD_MSG, RD_KAFKA_RESP_ERR_INVALID_MSG,
        RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION, RD_KAFKA_RESP_ERR_UNSUPPORTED_COMPRESSION_TYPE,
        RD_KAFKA_RESP_ERR__INVALID_ARG}) {
    EXPECT_EQ(readErrorKind(err), ErrorKind::kUnknown) << rd_kafka_err2name(err);
  }
}

TEST(ReadErrorKind, AWatermarkQueryWithoutAnAnswerIsUnavailable) {
  // librdkafka 2.0.2 reports a failed ListOffsets as __BAD_MSG (the partition is missing from
  // the answer it did not get); from a fetch, __BAD_MSG is a corrupt batch.
  EXPECT_EQ(watermarkQueryErrorKind(RD_KAFKA_RESP_ERR__BAD_MSG), ErrorKind::kUnavailable);
  EXPECT_EQ(watermarkQueryErrorKind(RD_KAFKA_RESP_ERR__TIMED_OUT), ErrorKind::kUnavailable);
  EXPECT_EQ(watermarkQueryErrorKind(RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION), ErrorKind::kUnknown);
  EXPECT_EQ(readErrorKind(RD_KAFKA_RESP_ERR__BAD_MSG), ErrorKind::kUnknown);
}

}  // namespace
}  // namespace causeway::kafka
