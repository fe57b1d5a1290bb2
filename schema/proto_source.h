#pragma once

// Parsing .proto text (as a registry or catalog holds it) into a FileDescriptorProto, with the
// line and column of each syntax error.

#include <google/protobuf/descriptor.pb.h>

#include <string>
#include <string_view>
#include <vector>

namespace causeway::schema {

struct ProtoSyntaxError {
  int line = 0;    // 1-based
  int column = 0;  // 1-based
  std::string message;
};

// Parses `text`; `file_name` becomes the FileDescriptorProto's name (what imports refer to).
// Returns false with at least one error when the text does not parse.
bool parseProtoText(std::string_view file_name, std::string_view text,
                    google::protobuf::FileDescriptorProto& out,
                    std::vector<ProtoSyntaxError>& errors);

}  // namespace causeway::schema
