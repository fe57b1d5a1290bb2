#pragma once

// A Confluent-compatible schema registry over HTTP(S) (Confluent, Karapace, Redpanda,
// Apicurio's ccompat API), on cpp-httplib with OpenSSL.
//
// Credentials come from files (`auth.basic_file`: "user:password", `auth.bearer_token_file`:
// a token), read when first needed and again whenever the file changes, so rotated secrets
// apply without a restart. They are never part of a message, a log line or an error.
//
// Answers worth retrying (no connection, a timeout, 5xx, 429) are retried `retries` times
// with a doubling backoff starting at `retry_backoff`; what remains is a kUnavailable error the
// caller backs off on. Not thread-safe: one thread at a time (a link's SchemaService thread);
// interrupt() from any thread ends a wait between retries and a call in progress.

#include "common/result.h"
#include "config/registries.h"
#include "schema/registry.h"

#include <condition_variable>
#include <ctime>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace httplib {
class Client;
}  // namespace httplib

namespace causeway::schema {

class RestRegistry final : public Registry {
public:
  // Checks the URL (http or https, no credentials in it) and builds the client; files are not
  // read yet.
  static Result<std::unique_ptr<RestRegistry>> create(const config::RegistryConfig& config);
  ~RestRegistry() override;

  const std::string& name() const override { return config_.name; }
  std::string identity() const override;

  RegistryResult<Schema> schemaById(uint32_t id, std::string_view subject) override;
  RegistryResult<Schema> schemaByGuid(const Guid& guid) override;
  RegistryResult<RegisteredSchema> subjectVersion(std::string_view subject, int version) override;
  RegistryResult<RegisteredSchema> lookup(std::string_view subject, const Schema& schema) override;
  RegistryResult<uint32_t> registerSchema(std::string_view subject, const Schema& schema) override;
  RegistryResult<CompatibilityResult> checkCompatibility(std::string_view subject,
                                                         const Schema& schema) override;
  void interrupt() override;

  // The subject as sent: with the registry's context prefix (":.east:") unless it has one.
  std::string qualify(std::string_view subject) const;

private:
  RestRegistry(config::RegistryConfig config, std::string origin, std::string base_path);

  struct Answer {
    int status = 0;
    std::string body;
  };
  // One request with retries; the parsed JSON body of a 2xx answer, else the error.
  RegistryResult<nlohmann::json> call(const std::string& method, const std::string& path,
                                      const std::string* body);
  RegistryResult<Answer> attempt(const std::string& method, const std::string& path,
                                 const std::string* body);
  // Reads the credential files when they changed; an error names the file, not its content.
  Status refreshCredentials();
  RegistryError error(RegistryErrc code, int status, int error_code, const std::string& what) const;
  bool sleepInterruptibly(std::chrono::milliseconds duration);

  const config::RegistryConfig config_;
  const std::string origin_;     // scheme://host:port
  const std::string base_path_;  // "" or "/apis/ccompat/v7"
  std::unique_ptr<httplib::Client> client_;

  struct FileStamp {
    std::timespec mtime{};
    off_t size = -1;
    bool read = false;
  };
  FileStamp basic_stamp_;
  FileStamp bearer_stamp_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool interrupted_ = false;  // guarded by mu_
};

}  // namespace causeway::schema
