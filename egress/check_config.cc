// egress::checkConfig: what the configuration names on disk, read the way the server will.

#include "egress/egress_server.h"
#include "egress/jwks.h"
#include "egress/partner_auth.h"
#include "egress/policy_paths.h"

#include <openssl/ssl.h>

#include <fstream>
#include <map>

namespace causeway::egress {
namespace {

struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};

void add(std::vector<config::ConfigError>& errors, const config::SourceLocation& where,
         const std::string& path, const std::string& message) {
  errors.push_back(config::ConfigError{where, path + ": " + message});
}

} // namespace

std::vector<config::ConfigError> checkConfig(const config::Config& config) {
  std::vector<config::ConfigError> errors;
  // A token in two partners' files would make one partner the other.
  std::map<std::string, std::string> token_owner;  // digest -> partner
  for (const auto& [name, partner] : config.partners) {
    const std::string base = "partners." + name + ".auth";
    if (!partner.auth.tokens_file.empty()) {
      auto tokens = readPartnerTokensFile(partner.auth.tokens_file);
      if (!tokens) {
        add(errors, partner.auth.tokens_file_location, base + ".tokens_file",
            tokens.error().message);
      } else {
        for (const auto& token : *tokens) {
          const std::string digest(reinterpret_cast<const char*>(token.digest.data()),
                                   token.digest.size());
          auto [it, inserted] = token_owner.emplace(digest, name);
          if (!inserted && it->second != name) {
            add(errors, partner.auth.tokens_file_location, base + ".tokens_file",
                "token '" + token.id + "' is also a token of partner '" + it->second + "'");
          }
        }
      }
    }
    if (partner.auth.jwt) {
      const auto& jwt = *partner.auth.jwt;
      if (!jwt.jwks_file.empty()) {
        if (auto jwks = readJwksFile(jwt.jwks_file); !jwks) {
          add(errors, jwt.jwks_file_location, base + ".jwt.jwks_file", jwks.error().message);
        }
      }
      if (!jwt.secret_file.empty()) {
        if (auto secret = readSecretFile(jwt.secret_file, "HS256 secret file"); !secret) {
          add(errors, jwt.secret_file_location, base + ".jwt.secret_file", secret.error().message);
        }
      }
    }
  }
  for (auto& error : checkPolicyPaths(config).errors) {
    errors.push_back(std::move(error));
  }
  if (!config.egress) {
    return errors;
  }
  const auto& egress = *config.egress;
  if (!egress.resume_token_secret_file.empty()) {
    std::ifstream in(egress.resume_token_secret_file, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
      text.pop_back();
    }
    if (!in.good() && text.empty()) {
      add(errors, egress.resume_token_secret_location, "egress.resume_token_secret_file",
          "'" + egress.resume_token_secret_file + "' cannot be read");
    } else if (text.size() < 32) {
      add(errors, egress.resume_token_secret_location, "egress.resume_token_secret_file",
          "'" + egress.resume_token_secret_file +
              "' holds less than 32 bytes; use e.g. `openssl rand -hex 32`");
    }
  }
  if (egress.tls) {
    std::unique_ptr<SSL_CTX, SslCtxDeleter> ctx(SSL_CTX_new(TLS_server_method()));
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), egress.tls->cert_file.c_str()) != 1) {
      add(errors, egress.tls->location, "egress.tls.cert_file",
          "'" + egress.tls->cert_file + "' is not a readable PEM certificate chain");
    } else if (SSL_CTX_use_PrivateKey_file(ctx.get(), egress.tls->key_file.c_str(),
                                           SSL_FILETYPE_PEM) != 1 ||
               SSL_CTX_check_private_key(ctx.get()) != 1) {
      add(errors, egress.tls->location, "egress.tls.key_file",
          "'" + egress.tls->key_file + "' is not a readable PEM key of the certificate");
    }
    if (!egress.tls->client_ca_file.empty() &&
        SSL_CTX_load_verify_locations(ctx.get(), egress.tls->client_ca_file.c_str(), nullptr) !=
            1) {
      add(errors, egress.tls->location, "egress.tls.client_ca_file",
          "'" + egress.tls->client_ca_file + "' is not a readable PEM CA certificate");
    }
  }
  if (egress.pushpin) {
    if (auto key = readSecretFile(egress.pushpin->sig_key_file, "Pushpin key file"); !key) {
      add(errors, egress.pushpin->location, "egress.pushpin.sig_key_file", key.error().message);
    }
  }
  return errors;
}

} // namespace causeway::egress
