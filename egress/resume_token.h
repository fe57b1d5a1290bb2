#pragma once

// Resume tokens: the `id:` of every SSE event and the `resume_token` of every gRPC event. A
// token holds the next offset of every partition of the product (the position right after the
// event), so a client that sends it back (Last-Event-ID) continues with no gap and no repeat.
//
// Tokens are opaque to clients (base64url) and bound to their product. An HMAC-SHA256 over the
// product name and the positions, with a worker secret, makes them tamper-evident: a client
// cannot make up positions, and a token of one product is refused by another. Workers that
// serve the same product share the secret (egress.resume_token_secret_file), so a client may
// resume on any of them, also after a restart.

#include "common/result.h"
#include "egress/crypto.h"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace causeway::egress {

// A topic as tokens name it: 32 bits of FNV-1a over the name. Topic names would make tokens
// long; a product's topics are few, and ProductReader refuses a product whose topics collide.
uint32_t topicTag(std::string_view topic);

struct TokenPosition {
  uint32_t topic_tag = 0;
  int32_t partition = 0;
  int64_t next_offset = 0;  // the offset of the next record to deliver

  bool operator==(const TokenPosition&) const = default;
};

// Refused tokens name why, never echo the token.
enum class TokenProblem { kMalformed, kOtherProduct, kBadSignature };

struct TokenError {
  TokenProblem problem;
  std::string message;
};

// Thread-safe (immutable after construction).
class ResumeTokenCodec {
public:
  // More positions than this in one token are refused (a product of 100k partitions is not
  // served over HTTP).
  static constexpr size_t kMaxPositions = 100000;

  explicit ResumeTokenCodec(std::string_view secret);

  // `positions` sorted by (topic_tag, partition) without duplicates (ProductReader keeps them
  // so); partitions and offsets are >= 0.
  std::string encode(std::string_view product, std::span<const TokenPosition> positions) const;
  // Appends the token to `out` (no allocation once `out` has grown).
  void encodeTo(std::string& out, std::string_view product,
                std::span<const TokenPosition> positions) const;

  // The positions of a token this codec issued for `product`.
  std::variant<std::vector<TokenPosition>, TokenError> decode(std::string_view product,
                                                              std::string_view token) const;

private:
  HmacSha256 mac_;
};

} // namespace causeway::egress
