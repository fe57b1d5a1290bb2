#include "egress/resume_token.h"

#include "common/base64.h"

#include <cstring>

namespace causeway::egress {
namespace {

// Layout (then base64url without padding):
//   u8 version (1) | u32le product tag | varint topics
//   per topic: u32le topic tag | varint partitions | per partition: varint partition, varint offset
//   16 bytes: HMAC-SHA256(secret, "causeway-resume-v1\0" + product + "\0" + all bytes before)
// Topics ascending by tag, partitions ascending: one token per position set.
constexpr uint8_t kVersion = 1;
constexpr size_t kMacBytes = 16;
constexpr std::string_view kDomain{"causeway-resume-v1\0", 19};

void putU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    out += static_cast<char>((v >> (8 * i)) & 0xff);
  }
}

void putVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

class Reader {
public:
  explicit Reader(std::string_view bytes) : p_(bytes) {}
  bool u8(uint8_t& v) {
    if (p_.empty()) {
      return false;
    }
    v = static_cast<uint8_t>(p_[0]);
    p_.remove_prefix(1);
    return true;
  }
  bool u32(uint32_t& v) {
    if (p_.size() < 4) {
      return false;
    }
    v = 0;
    for (int i = 0; i < 4; ++i) {
      v |= static_cast<uint32_t>(static_cast<uint8_t>(p_[i])) << (8 * i);
    }
    p_.remove_prefix(4);
    return true;
  }
  bool varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t b = 0;
      if (!u8(b)) {
        return false;
      }
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        // Canonical: no trailing zero groups (one encoding per number).
        return !(b == 0 && shift > 0);
      }
    }
    return false;
  }
  bool done() const { return p_.empty(); }

private:
  std::string_view p_;
};

TokenError malformed() {
  return {TokenProblem::kMalformed, "the resume token is malformed (not one this server issued)"};
}

} // namespace

uint32_t topicTag(std::string_view topic) {
  uint32_t h = 2166136261u;
  for (const char c : topic) {
    h ^= static_cast<uint8_t>(c);
    h *= 16777619u;
  }
  return h;
}

ResumeTokenCodec::ResumeTokenCodec(std::string_view secret) : mac_(secret) {}

std::string ResumeTokenCodec::encode(std::string_view product,
                                     std::span<const TokenPosition> positions) const {
  std::string out;
  encodeTo(out, product, positions);
  return out;
}

void ResumeTokenCodec::encodeTo(std::string& out, std::string_view product,
                                std::span<const TokenPosition> positions) const {
  thread_local std::string body;
  body.clear();
  body += static_cast<char>(kVersion);
  putU32(body, topicTag(product));
  size_t topics = 0;
  for (size_t i = 0; i < positions.size(); ++i) {
    topics += (i == 0 || positions[i].topic_tag != positions[i - 1].topic_tag) ? 1 : 0;
  }
  putVarint(body, topics);
  for (size_t i = 0; i < positions.size();) {
    size_t j = i;
    while (j < positions.size() && positions[j].topic_tag == positions[i].topic_tag) {
      ++j;
    }
    putU32(body, positions[i].topic_tag);
    putVarint(body, j - i);
    for (size_t k = i; k < j; ++k) {
      putVarint(body, static_cast<uint64_t>(positions[k].partition));
      putVarint(body, static_cast<uint64_t>(positions[k].next_offset));
    }
    i = j;
  }
  const Digest mac = mac_.sign({kDomain, product, std::string_view("\0", 1), body});
  body.append(reinterpret_cast<const char*>(mac.data()), kMacBytes);
  appendBase64Url(out, body);
}

std::variant<std::vector<TokenPosition>, TokenError> ResumeTokenCodec::decode(
    std::string_view product, std::string_view token) const {
  // Base64 of kMaxPositions entries of at most 4 + 5 + 10 bytes, with room to spare.
  if (token.size() > 4 * 1024 * 1024) {
    return malformed();
  }
  auto bytes = decodeBase64Url(token);
  if (!bytes || bytes->size() < 1 + 4 + 1 + kMacBytes) {
    return malformed();
  }
  const std::string_view all(*bytes);
  const std::string_view body = all.substr(0, all.size() - kMacBytes);
  Reader r(body);
  uint8_t version = 0;
  uint32_t product_tag = 0;
  if (!r.u8(version) || version != kVersion || !r.u32(product_tag)) {
    return malformed();
  }
  if (product_tag != topicTag(product)) {
    return TokenError{TokenProblem::kOtherProduct, "the resume token belongs to another product"};
  }
  const Digest mac = mac_.sign({kDomain, product, std::string_view("\0", 1), body});
  if (!constantTimeEqual(all.substr(body.size()),
                         std::string_view(reinterpret_cast<const char*>(mac.data()), kMacBytes))) {
    return TokenError{TokenProblem::kBadSignature,
                      "the resume token failed its integrity check (altered, or issued by a "
                      "server with another secret)"};
  }
  // From here the bytes are ours, but they are still checked: a changed layout or a bug must
  // not turn into a wrong position.
  std::vector<TokenPosition> positions;
  uint64_t topics = 0;
  if (!r.varint(topics) || topics > kMaxPositions) {
    return malformed();
  }
  for (uint64_t t = 0; t < topics; ++t) {
    uint32_t tag = 0;
    uint64_t count = 0;
    if (!r.u32(tag) || !r.varint(count) || count == 0 || positions.size() + count > kMaxPositions) {
      return malformed();
    }
    if (!positions.empty() && tag <= positions.back().topic_tag) {
      return malformed();
    }
    for (uint64_t k = 0; k < count; ++k) {
      uint64_t partition = 0;
      uint64_t offset = 0;
      if (!r.varint(partition) || !r.varint(offset) || partition > INT32_MAX ||
          offset > static_cast<uint64_t>(INT64_MAX)) {
        return malformed();
      }
      if (k > 0 && static_cast<int32_t>(partition) <= positions.back().partition) {
        return malformed();
      }
      positions.push_back(
          TokenPosition{tag, static_cast<int32_t>(partition), static_cast<int64_t>(offset)});
    }
  }
  if (!r.done()) {
    return malformed();
  }
  return positions;
}

} // namespace causeway::egress
