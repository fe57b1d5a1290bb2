#include "replicator/record_headers.h"

namespace causeway::replicator {

bool originContains(std::string_view origin, std::string_view cluster) {
  size_t start = 0;
  while (start <= origin.size()) {
    size_t comma = origin.find(',', start);
    if (comma == std::string_view::npos) {
      comma = origin.size();
    }
    if (origin.substr(start, comma - start) == cluster) {
      return true;
    }
    start = comma + 1;
  }
  return false;
}

std::string extendOrigin(std::optional<std::string_view> origin, std::string_view source_cluster) {
  std::string out;
  if (origin && !origin->empty()) {
    out.reserve(origin->size() + 1 + source_cluster.size());
    out.append(*origin);
    out.push_back(',');
  }
  out.append(source_cluster);
  return out;
}

void encodeSourceInto(std::string& out, std::string_view link, int64_t source_offset) {
  out.resize(8 + link.size());
  auto value = static_cast<uint64_t>(source_offset);
  for (int i = 7; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  out.replace(8, link.size(), link);
}

std::string encodeSource(std::string_view link, int64_t source_offset) {
  std::string out;
  encodeSourceInto(out, link, source_offset);
  return out;
}

std::optional<int64_t> decodeSource(std::string_view value, std::string_view link) {
  if (value.size() != 8 + link.size() || value.substr(8) != link) {
    return std::nullopt;
  }
  uint64_t offset = 0;
  for (size_t i = 0; i < 8; ++i) {
    offset = (offset << 8) | static_cast<uint8_t>(value[i]);
  }
  const auto result = static_cast<int64_t>(offset);
  if (result < 0) {
    return std::nullopt;
  }
  return result;
}

} // namespace causeway::replicator
