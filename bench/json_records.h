#pragma once

// The JSON records of the partner-policy benchmark (bench/README.md, "JSON records and the
// policy contender"): what causeway-bench-load writes for `--payload json`, and the harness's own
// account of what the benchmark policy (`kBenchPolicyFilter` and the three field rules the driver
// writes) must let through and change. The policy link and its raw-pipe baseline get exactly these
// records, so their ratio compares like with like.
//
// Every value is one JSON object of exactly the requested size, built once as a template whose
// variable fields have a fixed width, so a record costs a few small copies and no allocation:
//
//   {"id":"p03-s0000001234","sent_us":"1764246000000000","country":"DE","amount": 250,
//    "currency":"EUR","card":{"number":"4030000000001234","expiry":"12/29"},
//    "customer":{"email":"c03-0000001234@example.com","iban":"DE030000000000000001234",...},
//    "description":"xxxx..."}                    (the description pads to the size)
//
// Which records pass the filter is a pure function of (partition, sequence), so the load generator
// knows the expected target records before it starts and can check them one by one afterwards.
// Benchmarks only; nothing in the product includes this.

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

namespace causeway::bench {

// The benchmark policy's filter (issue 12's): the driver writes it into the link's policy, and
// JsonRecordFields::passes() is the harness's own evaluation of it.
inline constexpr std::string_view kBenchPolicyFilter =
    "value.country in [\"DE\", \"AT\"] and value.amount >= 100 and not exists(headers.test)";

// The fields of record (partition, sequence) that the filter and the field rules read.
struct JsonRecordFields {
  const char* country;  // 2 letters: DE or AT (~7/8 of records), FR (fails the filter)
  int amount;           // 99 (~1/8, fails the filter), 100, 250, 1200, 4999
  bool test_header;     // ~1/16 carry a `test` header (fails the filter)

  static JsonRecordFields of(int partition, int64_t sequence) {
    // splitmix64: the fields look random but are a pure function of the record.
    uint64_t h = (static_cast<uint64_t>(partition) << 40) ^ static_cast<uint64_t>(sequence);
    h += 0x9e3779b97f4a7c15ull;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
    h ^= h >> 31;
    static constexpr int kAmounts[] = {100, 250, 1200, 4999};
    return {h % 8 == 0 ? "FR" : ((h >> 3) % 2 == 0 ? "DE" : "AT"),
            (h >> 8) % 8 == 0 ? 99 : kAmounts[(h >> 11) % 4], (h >> 16) % 16 == 0};
  }

  // The filter, as the policy must evaluate it.
  bool passes() const {
    return (std::strcmp(country, "DE") == 0 || std::strcmp(country, "AT") == 0) && amount >= 100 &&
           !test_header;
  }
};

// The clear values of the protected fields of record (partition, sequence): unique per record,
// so the checker can look for each record's own values on the target.
struct JsonRecordSecrets {
  char card[17];   // 16 digits
  char email[27];  // c03-0000001234@example.com
  char iban[24];   // DE + 21 digits

  static JsonRecordSecrets of(int partition, int64_t sequence) {
    JsonRecordSecrets s{};
    const auto p = static_cast<unsigned>(partition % 100);
    const auto seq = static_cast<unsigned long long>(sequence);
    std::snprintf(s.card, sizeof(s.card), "4%02u%013llu", p, seq % 10000000000000ull);
    std::snprintf(s.email, sizeof(s.email), "c%02u-%010llu@example.com", p, seq % 10000000000ull);
    std::snprintf(s.iban, sizeof(s.iban), "DE%02u%019llu", p, seq % 10000000000000000000ull);
    return s;
  }
};

// The reusable value buffer: fill() rewrites the variable fields in place.
class JsonRecordTemplate {
public:
  // Values smaller than this cannot hold the fields.
  static constexpr size_t kMinSize = 320;

  explicit JsonRecordTemplate(size_t size) {
    const std::string head =
        "{\"id\":\"pPP-sSSSSSSSSSS\",\"sent_us\":\"TTTTTTTTTTTTTTTT\",\"country\":\"CC\","
        "\"amount\":AAAA,\"currency\":\"EUR\",\"card\":{\"number\":\"NNNNNNNNNNNNNNNN\","
        "\"expiry\":\"12/29\"},\"customer\":{\"email\":\"EEEEEEEEEEEEEEEEEEEEEEEEEE\","
        "\"iban\":\"IIIIIIIIIIIIIIIIIIIIIII\",\"name\":\"Bench Customer\"},\"description\":\"";
    const std::string tail = "\"}";
    id_ = head.find("pPP");
    sent_ = head.find("TTTT");
    country_ = head.find("CC\"");
    amount_ = head.find("AAAA");
    card_ = head.find("NNNN");
    email_ = head.find("EEEE");
    iban_ = head.find("IIII");
    const size_t fixed = head.size() + tail.size();
    value_ = head + std::string(size > fixed ? size - fixed : 0, 'x') + tail;
  }

  bool fits(size_t size) const { return value_.size() == size; }

  // Writes record (partition, sequence) into the buffer and returns it.
  const std::string& fill(int partition, int64_t sequence, int64_t send_micros) {
    const JsonRecordFields fields = JsonRecordFields::of(partition, sequence);
    const JsonRecordSecrets secrets = JsonRecordSecrets::of(partition, sequence);
    char buf[32];
    std::snprintf(buf, sizeof(buf), "p%02u-s%010llu", static_cast<unsigned>(partition % 100),
                  static_cast<unsigned long long>(sequence) % 10000000000ull);
    put(id_, buf, 15);
    std::snprintf(buf, sizeof(buf), "%016lld", static_cast<long long>(send_micros));
    put(sent_, buf, 16);
    put(country_, fields.country, 2);
    std::snprintf(buf, sizeof(buf), "%4d", fields.amount);  // leading blanks are JSON whitespace
    put(amount_, buf, 4);
    put(card_, secrets.card, 16);
    put(email_, secrets.email, 26);
    put(iban_, secrets.iban, 23);
    return value_;
  }

  // The "id" member as fill() writes it, to match a target record to its key.
  static std::string idMember(int partition, int64_t sequence) {
    char buf[48];
    std::snprintf(buf, sizeof(buf), "\"id\":\"p%02u-s%010llu\"",
                  static_cast<unsigned>(partition % 100),
                  static_cast<unsigned long long>(sequence) % 10000000000ull);
    return buf;
  }

private:
  void put(size_t at, const char* text, size_t n) { std::memcpy(value_.data() + at, text, n); }

  std::string value_;
  size_t id_ = 0;
  size_t sent_ = 0;
  size_t country_ = 0;
  size_t amount_ = 0;
  size_t card_ = 0;
  size_t email_ = 0;
  size_t iban_ = 0;
};

}  // namespace causeway::bench
