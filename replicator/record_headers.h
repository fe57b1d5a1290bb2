#pragma once

// The headers Causeway adds to every replicated record. Pure encoding and decoding, no Kafka.
//
//  causeway-origin  the clusters the record has passed through, oldest first, comma-separated
//                   ("east" after east -> west; "east,west" after a further west -> south).
//                   A link never writes a record into a cluster already on this path, which is
//                   what makes active-active links with identical topic names loop-free.
//  causeway-src     which link wrote the record and from which source offset: 8 bytes big-endian
//                   source offset followed by the link name. An exactly-once link resumes a
//                   partition right after the last source offset it finds on the target, and
//                   offsets translate exactly through it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace causeway::replicator {

inline constexpr std::string_view kOriginHeader = "causeway-origin";
inline constexpr std::string_view kSourceHeader = "causeway-src";

// True when `cluster` is one of the comma-separated names in `origin`.
bool originContains(std::string_view origin, std::string_view cluster);

// The origin to write on the target: `origin` (absent or empty: the record starts here) with
// `source_cluster` appended.
std::string extendOrigin(std::optional<std::string_view> origin, std::string_view source_cluster);

// causeway-src value for (link, source offset).
std::string encodeSource(std::string_view link, int64_t source_offset);
// The same into `out` (reused across records: no allocation once it has grown).
void encodeSourceInto(std::string& out, std::string_view link, int64_t source_offset);

// The source offset if `value` is a causeway-src value written by `link`, else nullopt.
std::optional<int64_t> decodeSource(std::string_view value, std::string_view link);

} // namespace causeway::replicator
