#include "policies/field_path.h"

#include <cctype>

namespace causeway::policies {

const char* rootName(PathRoot root) {
  switch (root) {
  case PathRoot::kKey:
    return "key";
  case PathRoot::kValue:
    return "value";
  case PathRoot::kHeaders:
    return "headers";
  case PathRoot::kTimestamp:
    return "timestamp";
  case PathRoot::kTopic:
    return "topic";
  case PathRoot::kPartition:
    return "partition";
  case PathRoot::kOffset:
    return "offset";
  }
  return "?";
}

bool isIdentifier(std::string_view text) {
  if (text.empty()) {
    return false;
  }
  const auto first = static_cast<unsigned char>(text[0]);
  if (std::isalpha(first) == 0 && first != '_') {
    return false;
  }
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) == 0 && u != '_' && u != '-') {
      return false;
    }
  }
  return true;
}

std::string FieldPath::text() const {
  std::string out = rootName(root);
  for (const PathSegment& segment : segments) {
    if (segment.is_index) {
      out += '[' + std::to_string(segment.index) + ']';
    } else if (isIdentifier(segment.name)) {
      out += '.';
      out += segment.name;
    } else {
      out += "[\"";
      for (char c : segment.name) {
        if (c == '"' || c == '\\') {
          out += '\\';
        }
        out += c;
      }
      out += "\"]";
    }
  }
  return out;
}

}  // namespace causeway::policies

namespace causeway::policies {

uint16_t FieldSlots::slotOf(const FieldPath& path) {
  for (size_t i = 0; i < paths_.size(); ++i) {
    if (paths_[i] == path) {
      return static_cast<uint16_t>(i);
    }
  }
  paths_.push_back(path);
  return static_cast<uint16_t>(paths_.size() - 1);
}

}  // namespace causeway::policies
