#include "schema/wire_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace causeway::schema {
namespace {

using ::testing::HasSubstr;

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) {
    out.push_back(static_cast<char>(v));
  }
  return out;
}

MessageIndexes path(std::initializer_list<int32_t> values) {
  MessageIndexes out;
  for (int32_t v : values) {
    out.path[out.size++] = v;
  }
  return out;
}

TEST(SchemaWireFormat, ConfluentIdIsBigEndianAfterMagicByte) {
  const std::string value = bytes({0x00, 0x00, 0x01, 0x02, 0x03}) + "payload";
  Frame frame;
  FrameError error;
  ASSERT_TRUE(parseFrame(value, false, frame, error)) << error.describe();
  EXPECT_EQ(frame.schema.kind, SchemaRef::Kind::kId);
  EXPECT_EQ(frame.schema.id, 0x010203u);
  EXPECT_EQ(frame.prefix_size, 5u);
  EXPECT_EQ(frame.indexes.size, 0);
  EXPECT_EQ(value.substr(frame.prefix_size), "payload");
}

TEST(SchemaWireFormat, LargestIdRoundTrips) {
  std::string value;
  appendPrefix(value, SchemaRef::ofId(0xfffffffeu), MessageIndexes{});
  Frame frame;
  FrameError error;
  ASSERT_TRUE(parseFrame(value, false, frame, error));
  EXPECT_EQ(frame.schema.id, 0xfffffffeu);
}

TEST(SchemaWireFormat, ProtobufFirstMessageIsTheSingleZeroByte) {
  const std::string value = bytes({0x00, 0, 0, 0, 7, 0x00}) + "body";
  Frame frame;
  FrameError error;
  ASSERT_TRUE(parseFrame(value, true, frame, error)) << error.describe();
  EXPECT_EQ(frame.indexes, path({0}));
  EXPECT_EQ(frame.prefix_size, 6u);
  EXPECT_EQ(frame.indexes_size, 1u);
}

TEST(SchemaWireFormat, ProtobufNestedMessageIndexesAreZigZagVarints) {
  // count 2 (zig-zag 4), then 1 (2) and 70 (140 = 0x8c 0x01).
  const std::string value = bytes({0x00, 0, 0, 0, 7, 0x04, 0x02, 0x8c, 0x01}) + "body";
  Frame frame;
  FrameError error;
  ASSERT_TRUE(parseFrame(value, true, frame, error)) << error.describe();
  EXPECT_EQ(frame.indexes, path({1, 70}));
  EXPECT_EQ(frame.prefix_size, 9u);
  EXPECT_EQ(frame.indexes.str(), "[1, 70]");
}

TEST(SchemaWireFormat, AppendedIndexesParseBack) {
  for (const MessageIndexes& indexes :
       {path({0}), path({3}), path({0, 0}), path({2, 5, 1}), path({100000})}) {
    std::string value;
    appendPrefix(value, SchemaRef::ofId(9), indexes);
    value += "x";
    Frame frame;
    FrameError error;
    ASSERT_TRUE(parseFrame(value, true, frame, error)) << error.describe();
    EXPECT_EQ(frame.indexes, indexes) << indexes.str();
    EXPECT_EQ(frame.prefix_size + 1, value.size());
  }
}

TEST(SchemaWireFormat, GuidPrefixCarriesSixteenBytes) {
  Guid guid;
  ASSERT_TRUE(parseGuid("6f1c8f3a-0f2e-4c35-9d1a-2b3c4d5e6f70", guid));
  std::string value;
  appendPrefix(value, SchemaRef::ofGuid(guid), MessageIndexes{});
  ASSERT_EQ(value.size(), 17u);
  EXPECT_EQ(static_cast<uint8_t>(value[0]), 0x01);
  value += "{}";
  Frame frame;
  FrameError error;
  ASSERT_TRUE(parseFrame(value, false, frame, error));
  EXPECT_TRUE(frame.schema.isGuid());
  EXPECT_EQ(guidText(frame.schema.guid), "6f1c8f3a-0f2e-4c35-9d1a-2b3c4d5e6f70");
  EXPECT_EQ(frame.prefix_size, 17u);
}

TEST(SchemaWireFormat, GuidTextRejectsMalformedText) {
  Guid guid;
  EXPECT_FALSE(parseGuid("6f1c8f3a0f2e4c359d1a2b3c4d5e6f70", guid));
  EXPECT_FALSE(parseGuid("6f1c8f3a-0f2e-4c35-9d1a-2b3c4d5e6f7g", guid));
  EXPECT_FALSE(parseGuid("6f1c8f3a-0f2e-4c35-9d1a+2b3c4d5e6f70", guid));
}

TEST(SchemaWireFormat, WrongMagicByteNamesTheByte) {
  Frame frame;
  FrameError error;
  EXPECT_FALSE(parseFrame("{\"amount\": 1}", false, frame, error));
  EXPECT_EQ(error.problem, FrameProblem::kBadMagic);
  EXPECT_THAT(error.describe(), HasSubstr("byte 0 is 0x7b"));
  EXPECT_THAT(error.describe(), HasSubstr("0x00 (schema ID) or 0x01 (schema GUID)"));
}

TEST(SchemaWireFormat, EmptyAndTruncatedPrefixes) {
  Frame frame;
  FrameError error;
  EXPECT_FALSE(parseFrame("", false, frame, error));
  EXPECT_EQ(error.problem, FrameProblem::kEmpty);
  EXPECT_FALSE(parseFrame(bytes({0x00, 0, 0}), false, frame, error));
  EXPECT_EQ(error.problem, FrameProblem::kTruncatedId);
  EXPECT_THAT(error.describe(), HasSubstr("3 bytes, a schema ID prefix needs 5"));
  EXPECT_FALSE(parseFrame(bytes({0x01, 1, 2, 3}), false, frame, error));
  EXPECT_EQ(error.problem, FrameProblem::kTruncatedGuid);
  EXPECT_FALSE(parseFrame(bytes({0x00, 0, 0, 0, 1}), true, frame, error));
  EXPECT_EQ(error.problem, FrameProblem::kTruncatedVarint);
  EXPECT_THAT(error.describe(), HasSubstr("byte 5"));
  EXPECT_FALSE(parseFrame(bytes({0x00, 0, 0, 0, 1, 0x04, 0x02}), true, frame, error));
  EXPECT_EQ(error.problem, FrameProblem::kTruncatedVarint);
  EXPECT_EQ(error.at, 7u);
}

TEST(SchemaWireFormat, BadMessageIndexesAreRefused) {
  Frame frame;
  FrameError error;
  // count -1 (zig-zag 1)
  EXPECT_FALSE(parseFrame(bytes({0x00, 0, 0, 0, 1, 0x01, 0x00}), true, frame, error));
  EXPECT_EQ(error.problem, FrameProblem::kNegativeCount);
  EXPECT_THAT(error.describe(), HasSubstr("byte 5"));
  // count 1, index -2 (zig-zag 3)
  EXPECT_FALSE(parseFrame(bytes({0x00, 0, 0, 0, 1, 0x02, 0x03}), true, frame, error));
  EXPECT_EQ(error.problem, FrameProblem::kNegativeIndex);
  EXPECT_EQ(error.at, 6u);
  // count 17
  EXPECT_FALSE(parseFrame(bytes({0x00, 0, 0, 0, 1, 34}), true, frame, error));
  EXPECT_EQ(error.problem, FrameProblem::kTooDeep);
  // a six-byte varint
  EXPECT_FALSE(parseFrame(bytes({0x00, 0, 0, 0, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}), true,
                          frame, error));
  EXPECT_EQ(error.problem, FrameProblem::kVarintTooLong);
}

TEST(SchemaWireFormat, HeaderModeHoldsOnlyThePrefix) {
  std::string header;
  appendPrefix(header, SchemaRef::ofId(42), path({0, 1}));
  Frame frame;
  FrameError error;
  ASSERT_TRUE(parseHeaderId(header, true, frame, error)) << error.describe();
  EXPECT_EQ(frame.schema.id, 42u);
  EXPECT_EQ(frame.indexes, path({0, 1}));
  EXPECT_EQ(frame.prefix_size, 0u);
  EXPECT_FALSE(parseHeaderId(header + "x", true, frame, error));
  EXPECT_EQ(error.problem, FrameProblem::kTrailingBytes);
  EXPECT_THAT(error.describe(), HasSubstr("1 unexpected bytes"));
}

TEST(SchemaWireFormat, RewriteReplacesOnlyTheId) {
  std::string value;
  appendPrefix(value, SchemaRef::ofId(1), path({2}));
  value += "payload";
  std::string out;
  rewriteId(value, 0x7fffffff, out);
  Frame frame;
  FrameError error;
  ASSERT_TRUE(parseFrame(out, true, frame, error));
  EXPECT_EQ(frame.schema.id, 0x7fffffffu);
  EXPECT_EQ(frame.indexes, path({2}));
  EXPECT_EQ(out.substr(5), value.substr(5));
}

}  // namespace
}  // namespace causeway::schema
