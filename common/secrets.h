#pragma once

// Which values are secret, and hiding them in text that leaves the process.
//
// Two rules decide what is hidden:
//  - by value: every value that came from a configuration reference (${env:...}, ${file:...},
//    ${directory:...}), every value of a property whose name marks it secret, and every control
//    token is registered here once, when it is read; redact() then replaces each occurrence of
//    a registered value in any text by "***". Values shorter than kMinRedactedLength are not
//    registered: searching for "1" or "true" would mangle every message, and no credential
//    worth hiding is that short.
//  - by name: in text, `name=value`, `name="value"` and `"name": "value"` where the name marks
//    a secret (isSecretName) have the value replaced whatever its length. This catches a secret
//    echoed next to its property name (a librdkafka configuration line, a JAAS option) even
//    when nobody registered it.
//
// The registry is process-wide and only grows (a rotated secret's old value stays hidden).
// Registration happens while configuration is loaded; redaction happens on every log line, API
// answer, metrics scrape and console line. Both are safe from any thread.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::secrets {

inline constexpr size_t kMinRedactedLength = 6;
inline constexpr std::string_view kMask = "***";

// True for a configuration key or librdkafka property whose value is a secret. Case-insensitive;
// the name is split into words at '.', '_' and '-'. Secret are names
//  - ending in the word password, passwd, passphrase, secret or key (`sasl.password`,
//    `sasl.oauthbearer.client.secret`, `api_key`, `signing.key`);
//  - with a word containing password, secret, token, credential, jaas or private
//    (`sasl.jaas.config`, `bearer_token`, `token_file`, `basic.auth.credentials.source`);
//  - starting or containing the words `ssl.key` (`ssl.key.pem`, `ssl.key.password`,
//    `ssl.key.location`);
//  - ending in `user.info` / `userinfo` (schema registry basic auth, "user:password").
bool isSecretName(std::string_view name);

// A set of secret values, longest first so that a secret containing another is replaced whole.
// Not thread-safe by itself; the registry shares immutable instances.
class SecretSet {
public:
  // Adds `value` unless it is shorter than kMinRedactedLength or already present; true if added.
  bool add(std::string_view value);
  bool contains(std::string_view value) const;
  bool empty() const { return values_.empty(); }
  size_t size() const { return values_.size(); }
  // Replaces every occurrence of every value by kMask; true if the text changed.
  bool redactInPlace(std::string& text) const;

private:
  std::vector<std::string> values_;
};

// --- The process-wide registry ---
// Adds a secret value (ignored when shorter than kMinRedactedLength).
void registerSecret(std::string_view value);
// The values registered so far (an immutable snapshot; cheap to take).
std::shared_ptr<const SecretSet> registeredSecrets();
// Forgets every registered value. Tests only: a process never un-hides a secret.
void clearRegisteredSecretsForTesting();

// Hides `name=value` style assignments of secret-named keys (the rule "by name" above). The
// bare word `key` does not count here (too common in messages); `ssl.key.pem=...` does.
bool redactAssignmentsInPlace(std::string& text);

// Both rules: registered values, then secret-named assignments.
std::string redact(std::string_view text);
bool redactInPlace(std::string& text);

}  // namespace causeway::secrets
