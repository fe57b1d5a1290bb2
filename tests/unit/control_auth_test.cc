// Control API building blocks without a server: token auth, the access policy of every method,
// error classification and secret redaction.

#include "causeway/v1/control.grpc.pb.h"
#include "control/auth.h"
#include "control/errors.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace causeway::control {
namespace {

const std::string kAdmin = "admin-token-0123456789abcdef";
const std::string kRead = "read-token-0123456789abcdef";

std::string bearer(const std::string& token) { return "Bearer " + token; }

TEST(ControlAuth, ConstantTimeEqualsComparesWholeStrings) {
  EXPECT_TRUE(constantTimeEquals("", ""));
  EXPECT_TRUE(constantTimeEquals(kAdmin, kAdmin));
  EXPECT_FALSE(constantTimeEquals(kAdmin, kAdmin + "x"));
  EXPECT_FALSE(constantTimeEquals(kAdmin + "x", kAdmin));
  EXPECT_FALSE(constantTimeEquals(kAdmin, kRead));
  EXPECT_FALSE(constantTimeEquals("", "a"));
  std::string last_differs = kAdmin;
  last_differs.back() = '!';
  EXPECT_FALSE(constantTimeEquals(kAdmin, last_differs));
  // An embedded NUL is a byte like any other.
  EXPECT_FALSE(constantTimeEquals(std::string("ab\0c", 4), std::string("ab\0d", 4)));
}

TEST(ControlAuth, WithoutTokensEveryCallerIsAdmin) {
  const TokenAuth auth;
  ASSERT_FALSE(auth.enabled());
  auto access = auth.authenticate(std::nullopt);
  ASSERT_TRUE(access.ok());
  EXPECT_EQ(*access, Access::kAdmin);
}

TEST(ControlAuth, TokensDecideTheAccess) {
  const TokenAuth auth(kAdmin, kRead);
  const std::string admin = bearer(kAdmin);
  const std::string read = bearer(kRead);
  const std::string lower_scheme = "bearer " + kAdmin;
  EXPECT_EQ(*auth.authenticate(admin), Access::kAdmin);
  EXPECT_EQ(*auth.authenticate(read), Access::kReadOnly);
  EXPECT_EQ(*auth.authenticate(lower_scheme), Access::kAdmin);  // the scheme is case-insensitive

  auto missing = auth.authenticate(std::nullopt);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("missing token"), std::string::npos);
  const std::string wrong = bearer("not-the-token-0123456789");
  auto unknown = auth.authenticate(wrong);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message.find("not-the-token"), std::string::npos)
      << "the presented token must not be echoed";
  const std::string basic = "Basic " + kAdmin;
  EXPECT_FALSE(auth.authenticate(basic).ok());
  const std::string bare = kAdmin;
  EXPECT_FALSE(auth.authenticate(bare).ok());
  const std::string prefix = bearer(kAdmin.substr(0, kAdmin.size() - 1));
  EXPECT_FALSE(auth.authenticate(prefix).ok());
}

TEST(ControlAuth, EveryMethodOfTheServiceHasAnAccessPolicy) {
  const auto* service = v1::Control::service_full_name() != nullptr
                            ? google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
                                  v1::Control::service_full_name())
                            : nullptr;
  ASSERT_NE(service, nullptr);
  ASSERT_EQ(service->method_count(), 7);
  for (int i = 0; i < service->method_count(); ++i) {
    EXPECT_TRUE(requiredAccess(service->method(i)->name()).has_value())
        << service->method(i)->name() << " has no access policy in control/auth.cc";
  }
  EXPECT_EQ(requiredAccess("ListLinks"), Access::kReadOnly);
  EXPECT_EQ(requiredAccess("GetLinkStatus"), Access::kReadOnly);
  EXPECT_EQ(requiredAccess("TranslateOffsets"), Access::kReadOnly);
  EXPECT_EQ(requiredAccess("PauseLink"), Access::kAdmin);
  EXPECT_EQ(requiredAccess("ResumeLink"), Access::kAdmin);
  EXPECT_EQ(requiredAccess("Failover"), Access::kAdmin);
  EXPECT_EQ(requiredAccess("ReloadConfig"), Access::kAdmin);
  EXPECT_FALSE(requiredAccess("DeleteEverything").has_value());
}

TEST(ControlAuth, TokenFilesAreTrimmedAndCheckedForLength) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("causeway-auth-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  };
  auto good = readTokenFile(write("good", "  " + kAdmin + " \n# comment\n"));
  ASSERT_TRUE(good.ok()) << good.error().message;
  EXPECT_EQ(*good, kAdmin);
  EXPECT_FALSE(readTokenFile(write("empty", "\n")).ok());
  auto short_token = readTokenFile(write("short", "abc\n"));
  ASSERT_FALSE(short_token.ok());
  EXPECT_NE(short_token.error().message.find("shorter than 16"), std::string::npos);
  EXPECT_FALSE(readTokenFile((dir / "missing").string()).ok());
  std::filesystem::remove_all(dir);
}

TEST(ControlAuth, TokenFilesRotateWithoutARestart) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("causeway-rotate-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto admin_file = (dir / "admin").string();
  const auto read_file = (dir / "read").string();
  // Written via a new file renamed over the old one, as secret managers do: a new inode, so a
  // change within the file system's timestamp granularity is still seen.
  auto write = [&](const std::string& path, const std::string& text) {
    std::ofstream(path + ".new") << text;
    std::filesystem::rename(path + ".new", path);
  };
  write(admin_file, kAdmin + "\n");
  write(read_file, kRead + "\n");
  auto auth = TokenAuth::fromFiles(admin_file, read_file);
  ASSERT_TRUE(auth.ok()) << auth.error().message;
  EXPECT_EQ(*auth->authenticate(bearer(kAdmin)), Access::kAdmin);
  EXPECT_EQ(*auth->authenticate(bearer(kRead)), Access::kReadOnly);

  // when: the admin token is rotated
  const std::string rotated = "rotated-admin-token-0123456789";
  write(admin_file, rotated + "\n");
  // then: the new one works at once and the old one no longer does
  EXPECT_EQ(*auth->authenticate(bearer(rotated)), Access::kAdmin);
  EXPECT_FALSE(auth->authenticate(bearer(kAdmin)).ok());

  // a file that no longer holds a valid token keeps the previous one in force
  write(admin_file, "short\n");
  EXPECT_EQ(*auth->authenticate(bearer(rotated)), Access::kAdmin);
  write(admin_file, kRead + "\n");  // the read-only token as admin: refused
  EXPECT_EQ(*auth->authenticate(bearer(rotated)), Access::kAdmin);
  EXPECT_EQ(*auth->authenticate(bearer(kRead)), Access::kReadOnly);
  std::filesystem::remove(admin_file);
  EXPECT_EQ(*auth->authenticate(bearer(rotated)), Access::kAdmin);

  // bad files at start are errors that say which
  auto same = TokenAuth::fromFiles(read_file, read_file);
  ASSERT_FALSE(same.ok());
  EXPECT_NE(same.error().message.find("are the same"), std::string::npos);
  auto read_only = TokenAuth::fromFiles("", read_file);
  ASSERT_FALSE(read_only.ok());
  EXPECT_NE(read_only.error().message.find("needs an admin token"), std::string::npos);
  auto missing = TokenAuth::fromFiles((dir / "missing").string(), "");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("control admin token: token file"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(ControlErrors, ReplicatorMessagesMapToGrpcCodes) {
  auto code = [](const std::string& message) {
    return toGrpcCode(classifyReplicatorError(message));
  };
  // The replicator's own phrases (replicator/offset_translation.cc, failover.cc, worker.cc,
  // kafka/client_factory.cc).
  EXPECT_EQ(code("unknown link 'nope'; the config has: a, b"), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(code("group 'g' has no committed offset on cluster 'source' (127.0.0.1:1) for any "
                 "topic of link 'a'"),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(code("cluster 'source' (127.0.0.1:1) unreachable: no broker answered within 100 ms "
                 "(Local: Broker transport failure)"),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(code("reading the committed offsets of group 'g' on cluster 'x' (h:1): no answer in "
                 "time"),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(code("link 'a' is at_least_once: its target may hold a record twice"),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(code("link 'a' is failed, not running"), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(code("link 'a' names no consumer group to fail over"),
            grpc::StatusCode::FAILED_PRECONDITION);
  // A missing or corrupt state topic: the link's state is not usable as it is.
  EXPECT_EQ(code("state topic 'causeway.a.state' on cluster 'x' (h:1) does not exist: link 'a' "
                 "creates it when it starts as an exactly_once link"),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(code("state topic 'causeway.a.state' on cluster 'x' (h:1) partition 0 offset 3 "
                 "(key 'orders/0') is corrupt: offset-runs run 0: unknown flags 2"),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(toGrpcCode(ErrorKind::kUnauthenticated), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(toGrpcCode(ErrorKind::kPermissionDenied), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(toGrpcCode(ErrorKind::kInvalidArgument), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(ControlErrors, SecretPropertyValuesAreRedacted) {
  config::Config config;
  config.clusters["east"].properties = {{"sasl.password", "hunter2-secret"},
                                        {"sasl.username", "alice"},
                                        {"sasl.oauthbearer.client.secret", "oauth-secret-value"},
                                        {"security.protocol", "SASL_SSL"}};
  config::LinkConfig link;
  link.producer_properties["ssl.key.password"] = "keypass-123";
  config.links.push_back(link);
  const SecretRedactor redactor(config);
  EXPECT_EQ(redactor.redact("auth failed for alice with hunter2-secret via SASL_SSL"),
            "auth failed for alice with *** via SASL_SSL");
  EXPECT_EQ(redactor.redact("oauth-secret-value / keypass-123"), "*** / ***");
  EXPECT_EQ(redactor.redact("nothing secret here"), "nothing secret here");
  EXPECT_TRUE(SecretRedactor::isSecretKey("sasl.jaas.config"));
  EXPECT_FALSE(SecretRedactor::isSecretKey("bootstrap.servers"));
}

} // namespace
} // namespace causeway::control
