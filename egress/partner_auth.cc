#include "egress/partner_auth.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <sstream>

namespace causeway::egress {
namespace {

constexpr size_t kMinTokenLength = 16;
constexpr size_t kMaxFileBytes = 1u << 20;

Result<std::string> slurp(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{what + " '" + path + "' cannot be read"};
  }
  std::string text(kMaxFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxFileBytes) {
    return Error{what + " '" + path + "' is larger than 1 MiB"};
  }
  return text;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  return s;
}

bool caseInsensitivePrefix(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

} // namespace

bool Identity::tokenAllows(std::string_view product) const {
  return !products || std::find(products->begin(), products->end(), product) != products->end();
}

int64_t unixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<std::vector<PartnerToken>> parsePartnerTokens(std::string_view text,
                                                     const std::string& path) {
  std::vector<PartnerToken> tokens;
  size_t line_no = 0;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view line = trimmed(text.substr(start, end - start));
    ++line_no;
    start = end + 1;
    if (line.empty() || line.front() == '#') {
      if (end == text.size()) {
        break;
      }
      continue;
    }
    const std::string where = "tokens file '" + path + "' line " + std::to_string(line_no);
    std::string_view id;
    std::string_view token = line;
    if (const size_t space = line.find_first_of(" \t"); space != std::string_view::npos) {
      id = line.substr(0, space);
      token = trimmed(line.substr(space));
      if (token.find_first_of(" \t") != std::string_view::npos) {
        return Error{where + ": expected TOKEN or ID TOKEN, found more than two words"};
      }
    }
    if (token.size() < kMinTokenLength) {
      return Error{where +
                   ": the token is shorter than 16 characters; use a random one, e.g. "
                   "`openssl rand -hex 32`"};
    }
    PartnerToken entry;
    entry.digest = sha256(token);
    entry.id = id.empty() ? "sha256:" + hex(entry.digest.data(), 4) : std::string(id);
    for (const auto& other : tokens) {
      if (other.digest == entry.digest) {
        return Error{where + ": the same token is listed twice"};
      }
    }
    tokens.push_back(std::move(entry));
    if (end == text.size()) {
      break;
    }
  }
  if (tokens.empty()) {
    return Error{"tokens file '" + path + "' holds no token (one per line: TOKEN or ID TOKEN)"};
  }
  return tokens;
}

Result<std::vector<PartnerToken>> readPartnerTokensFile(const std::string& path) {
  auto text = slurp(path, "tokens file");
  if (!text) {
    return text.error();
  }
  return parsePartnerTokens(*text, path);
}

Result<std::string> readSecretFile(const std::string& path, const std::string& what) {
  auto text = slurp(path, what);
  if (!text) {
    return text.error();
  }
  const std::string_view first = trimmed(std::string_view(*text).substr(0, text->find('\n')));
  if (first.size() < kMinTokenLength) {
    return Error{what + " '" + path + "' holds less than 16 characters on its first line"};
  }
  return std::string(first);
}

Result<std::unique_ptr<PartnerAuth>> PartnerAuth::create(const config::Config& config) {
  std::unique_ptr<PartnerAuth> auth(new PartnerAuth());
  for (const auto& [name, partner_config] : config.partners) {
    auto partner = std::make_unique<Partner>();
    partner->name = name;
    const std::string who = "partner '" + name + "'";
    const auto& a = partner_config.auth;
    if (!a.tokens_file.empty()) {
      partner->tokens = ReloadingFile<std::vector<PartnerToken>>(
          a.tokens_file, "egress: " + who + " tokens file", readPartnerTokensFile);
      if (auto loaded = partner->tokens.load(); !loaded) {
        return Error{who + ": " + loaded.message()};
      }
    }
    if (a.jwt) {
      JwtExpectations expect;
      expect.issuer = a.jwt->issuer;
      expect.audience = a.jwt->audience;
      expect.products_claim = a.jwt->products_claim;
      expect.clock_skew_seconds =
          std::chrono::duration_cast<std::chrono::seconds>(a.jwt->clock_skew).count();
      partner->jwt = expect;
      if (!a.jwt->jwks_file.empty()) {
        partner->jwks =
            ReloadingFile<Jwks>(a.jwt->jwks_file, "egress: " + who + " JWKS", readJwksFile);
        if (auto loaded = partner->jwks.load(); !loaded) {
          return Error{who + ": " + loaded.message()};
        }
      }
      if (!a.jwt->secret_file.empty()) {
        partner->secret = ReloadingFile<std::string>(
            a.jwt->secret_file, "egress: " + who + " HS256 secret",
            [](const std::string& path) { return readSecretFile(path, "HS256 secret file"); });
        if (auto loaded = partner->secret.load(); !loaded) {
          return Error{who + ": " + loaded.message()};
        }
      }
    }
    auth->partners_.push_back(std::move(partner));
  }
  return auth;
}

std::variant<Identity, AuthError> PartnerAuth::authenticate(
    std::optional<std::string_view> authorization, int64_t now) {
  if (!authorization) {
    return AuthError{AuthProblem::kMissing,
                     "missing credentials: send 'Authorization: Bearer <token>'"};
  }
  std::string_view value = trimmed(*authorization);
  if (!caseInsensitivePrefix(value, "Bearer ")) {
    return AuthError{AuthProblem::kInvalid, "the Authorization header is not 'Bearer <token>'"};
  }
  value = trimmed(value.substr(7));
  const AuthError invalid{AuthProblem::kInvalid, "invalid token"};
  std::lock_guard lock(mu_);
  if (looksLikeJwt(value)) {
    auto parsed = ParsedJwt::parse(value);
    if (!parsed) {
      return AuthError{AuthProblem::kInvalid, "invalid token: " + parsed.error().message};
    }
    const std::string issuer = parsed->issuer();
    const auto audiences = parsed->audiences();
    for (auto& partner : partners_) {
      if (!partner->jwt || partner->jwt->issuer != issuer ||
          std::find(audiences.begin(), audiences.end(), partner->jwt->audience) ==
              audiences.end()) {
        continue;
      }
      partner->jwks.refresh();
      partner->secret.refresh();
      JwtKeys keys;
      keys.jwks = partner->jwks.value() ? &*partner->jwks.value() : nullptr;
      keys.hs256_secret = partner->secret.value() ? &*partner->secret.value() : nullptr;
      auto claims = parsed->verify(keys, *partner->jwt, now);
      if (!claims) {
        return AuthError{AuthProblem::kInvalid, "invalid token: " + claims.error().message};
      }
      Identity identity;
      identity.partner = partner->name;
      identity.method = "jwt";
      identity.token_id = !claims->token_id.empty()  ? claims->token_id
                          : !claims->subject.empty() ? "sub:" + claims->subject
                                                     : "jwt";
      identity.products = std::move(claims->products);
      return identity;
    }
    // Fall through: a plain token may contain two dots.
  }
  const Digest presented = sha256(value);
  const std::string_view presented_view(reinterpret_cast<const char*>(presented.data()),
                                        presented.size());
  const Partner* match = nullptr;
  const PartnerToken* matched = nullptr;
  // Every entry is compared (digests, in constant time): the time does not depend on which one
  // matched.
  for (auto& partner : partners_) {
    partner->tokens.refresh();
    if (!partner->tokens.value()) {
      continue;
    }
    for (const PartnerToken& token : *partner->tokens.value()) {
      const bool equal = constantTimeEqual(
          presented_view, std::string_view(reinterpret_cast<const char*>(token.digest.data()),
                                           token.digest.size()));
      if (equal && match == nullptr) {
        match = partner.get();
        matched = &token;
      }
    }
  }
  if (match == nullptr) {
    return invalid;
  }
  Identity identity;
  identity.partner = match->name;
  identity.method = "token";
  identity.token_id = matched->id;
  return identity;
}

} // namespace causeway::egress
