#pragma once

// Protobuf payloads against a contract. The registered .proto text (and the .proto texts of
// its references) are compiled into a DescriptorPool; each record's message is chosen by its
// message indexes, its bytes are walked field by field (wire types, lengths, nested messages,
// UTF-8 of proto3 strings, with the path of the first problem) and then parsed into a
// DynamicMessage, which also finds missing proto2 required fields. The writer's message must
// be compatible with the message of the same full name in the contract's schema (checked per
// message when the validator is compiled).

#include "config/domains.h"
#include "schema/validator.h"

#include <google/protobuf/descriptor.h>

namespace causeway::schema {

Result<ValidatorPtr> compileProtobufValidator(const ResolvedSchema& writer,
                                              const ResolvedSchema* reader,
                                              config::Compatibility compatibility);

// A compiled .proto file with its imports, for tools and tests.
struct ProtoFile {
  std::unique_ptr<google::protobuf::DescriptorPool> pool;
  const google::protobuf::FileDescriptor* file = nullptr;
};
Result<std::shared_ptr<const ProtoFile>> compileProto(const ResolvedSchema& schema);

// The message at `indexes` in `file` (nullptr when there is none). Nested indexes count the
// messages the .proto text declares, as Confluent's Java serializers and the registry do: not
// the map-entry types protoc makes for `map<K, V>` fields, nor proto2 groups.
const google::protobuf::Descriptor* messageAt(const google::protobuf::FileDescriptor& file,
                                              const MessageIndexes& indexes);

// The indexes of `message` in its file, as messageAt() reads them.
MessageIndexes messageIndexesOf(const google::protobuf::Descriptor& message);

// Whether data written with message `writer` can be read as message `reader`, or why not.
Status protobufCompatible(const google::protobuf::Descriptor& writer,
                          const google::protobuf::Descriptor& reader);

}  // namespace causeway::schema
