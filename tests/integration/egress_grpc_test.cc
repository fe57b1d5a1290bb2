// causeway.v1.Egress over gRPC: the same products, credentials and resume semantics as the
// HTTP endpoints; and `causeway products list`.

#include "causeway/v1/egress.grpc.pb.h"
#include "egress/egress_server.h"
#include "egress/filter_stages.h"
#include "tests/support/egress_support.h"
#include "tests/support/test_support.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>

namespace causeway::egress {
namespace {

using namespace std::chrono_literals;
using testing::kAcmeToken;
using testing::kGlobexToken;
using testing::kProduct;
using testing::kTopic;

constexpr int32_t kPartitions = 3;

class EgressGrpcTest : public ::testing::Test {
protected:
  void SetUp() override { start(testing::testFilterFactory()); }

  // The server with `filters` (the test's, or the predicate language of `causeway run`).
  void start(FilterFactory filters) {
    server_.reset();
    cluster_ = testing::startCluster("east", 1, {{kTopic, kPartitions}});
    ASSERT_NE(cluster_, nullptr);
    dir_ = (std::filesystem::temp_directory_path() /
            ("causeway-egress-grpc-" + std::to_string(::getpid())))
               .string();
    config_ = testing::makeEgressConfig(cluster_->bootstrap(), dir_);
    config_.egress->grpc_listen = "127.0.0.1:0";
    testing::addPaymentsContract(config_, dir_);
    EgressServer::Options options;
    options.stages = testing::testStageFactory();
    options.filters = std::move(filters);
    auto server = EgressServer::start(config_, options);
    ASSERT_TRUE(server) << server.error().message;
    server_ = std::move(*server);
    ASSERT_GT(server_->grpcPort(), 0);
    stub_ = v1::Egress::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server_->grpcPort()), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<grpc::ClientContext> context(const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!token.empty()) {
      ctx->AddMetadata("authorization", "Bearer " + token);
    }
    ctx->set_deadline(std::chrono::system_clock::now() + 30s);
    return ctx;
  }

  // Reads until `count` events arrived (then cancels) or the stream ended.
  std::vector<v1::Event> read(const v1::SubscribeRequest& request, size_t count,
                              grpc::Status* status = nullptr) {
    auto ctx = context(kAcmeToken);
    auto reader = stub_->Subscribe(ctx.get(), request);
    std::vector<v1::Event> events;
    v1::SubscribeResponse response;
    while (events.size() < count && reader->Read(&response)) {
      for (const auto& e : response.events()) {
        events.push_back(e);
      }
    }
    ctx->TryCancel();
    while (reader->Read(&response)) {
    }
    grpc::Status s = reader->Finish();
    if (status != nullptr) {
      *status = s;
    }
    return events;
  }

  embedded::EmbeddedClusterPtr cluster_;
  std::string dir_;
  config::Config config_;
  std::unique_ptr<EgressServer> server_;
  std::unique_ptr<v1::Egress::Stub> stub_;
};

TEST_F(EgressGrpcTest, SubscribeResumesFromTheLastTokenWithoutGapOrRepeat) {
  ASSERT_TRUE(testing::produceRecords(cluster_->bootstrap(), kTopic, kPartitions, 50));
  v1::SubscribeRequest request;
  request.set_product(kProduct);
  request.set_position(v1::START_POSITION_EARLIEST);
  auto first = read(request, 60);
  ASSERT_GE(first.size(), 60u);
  first.resize(60);
  v1::SubscribeRequest resume;
  resume.set_product(kProduct);
  resume.set_resume_token(first.back().resume_token());
  auto rest = read(resume, 90);
  ASSERT_EQ(rest.size(), 90u);
  std::set<std::pair<int, int64_t>> seen;
  for (const auto* list : {&first, &rest}) {
    for (const auto& e : *list) {
      EXPECT_TRUE(seen.emplace(e.partition(), e.offset()).second);
      auto json = nlohmann::json::parse(e.json());
      EXPECT_EQ(json["offset"], e.offset());
      EXPECT_EQ(json["value"]["pad"], "MASKED");
      EXPECT_TRUE(e.has_timestamp());
    }
  }
  EXPECT_EQ(seen.size(), 150u);
}

TEST_F(EgressGrpcTest, AStreamEndedBeforeItsFirstEventResumesFromItsStartToken) {
  // A client subscribes from the live edge and its stream breaks before any event arrives.
  ASSERT_TRUE(testing::produceRecords(cluster_->bootstrap(), kTopic, kPartitions, 5));
  v1::SubscribeRequest request;
  request.set_product(kProduct);
  request.set_position(v1::START_POSITION_LATEST);
  std::string start_token;
  {
    auto ctx = context(kAcmeToken);
    auto reader = stub_->Subscribe(ctx.get(), request);
    v1::SubscribeResponse first;
    ASSERT_TRUE(reader->Read(&first));
    EXPECT_EQ(first.events_size(), 0);
    start_token = first.start_token();
    ctx->TryCancel();
    while (reader->Read(&first)) {
    }
    reader->Finish();
  }
  ASSERT_FALSE(start_token.empty());
  // Records arrive while it is away; it resumes from the start token and gets exactly those.
  ASSERT_TRUE(testing::produceRecords(cluster_->bootstrap(), kTopic, kPartitions, 4, 5));
  v1::SubscribeRequest resume;
  resume.set_product(kProduct);
  resume.set_resume_token(start_token);
  auto events = read(resume, 12);
  std::set<std::pair<int, int64_t>> seen;
  for (const auto& e : events) {
    seen.emplace(e.partition(), e.offset());
  }
  std::set<std::pair<int, int64_t>> expected;
  for (int p = 0; p < kPartitions; ++p) {
    for (int64_t offset = 5; offset < 9; ++offset) {
      expected.emplace(p, offset);
    }
  }
  EXPECT_EQ(events.size(), 12u);
  EXPECT_EQ(seen, expected) << "exactly the records produced after the start";
}

// A client's filter in the policy language (what `causeway run` serves) narrows the gRPC stream
// as it does the SSE one: it sees the policy's output (the masked pad), a resumed stream keeps
// to it with no gap, and a filter that does not parse is INVALID_ARGUMENT saying where.
TEST_F(EgressGrpcTest, APredicateFilterNarrowsTheStreamAndResumes) {
  start(predicateFilterFactory());
  ASSERT_TRUE(testing::produceRecords(cluster_->bootstrap(), kTopic, kPartitions, 10));
  const std::string filter = R"(value.seq >= 6 and partition != 2 and value.pad == "MASKED")";
  v1::SubscribeRequest request;
  request.set_product(kProduct);
  request.set_position(v1::START_POSITION_EARLIEST);
  request.set_filter(filter);
  std::set<std::pair<int, int64_t>> seen;
  auto check = [&](const v1::Event& e) {
    const auto json = nlohmann::json::parse(e.json());
    EXPECT_NE(json["partition"].get<int>(), 2) << e.json();
    EXPECT_GE(json["value"]["seq"].get<int64_t>(), 6) << e.json();
    EXPECT_TRUE(seen.emplace(json["partition"].get<int>(), json["value"]["seq"].get<int64_t>())
                    .second)
        << "repeated " << e.json();
  };
  // Matching: partitions 0 and 1, seq 6..9.
  auto first = read(request, 8);
  ASSERT_EQ(first.size(), 8u);
  for (const auto& e : first) {
    check(e);
  }
  // seq 10 and 11 while the client is away: the next four events of the resumed stream are
  // exactly those of partitions 0 and 1 (an event the filter should drop would come among them).
  ASSERT_TRUE(testing::produceRecords(cluster_->bootstrap(), kTopic, kPartitions, 2, 10));
  v1::SubscribeRequest resume;
  resume.set_product(kProduct);
  resume.set_resume_token(first.back().resume_token());
  resume.set_filter(filter);
  auto rest = read(resume, 4);
  ASSERT_EQ(rest.size(), 4u);
  for (const auto& e : rest) {
    check(e);
  }
  for (int p : {0, 1}) {
    for (int64_t seq = 6; seq < 12; ++seq) {
      EXPECT_EQ(seen.count({p, seq}), 1u) << p << "@" << seq;
    }
  }
  v1::SubscribeRequest bad = request;
  bad.set_filter("value.seq >=");
  auto ctx = context(kAcmeToken);
  auto reader = stub_->Subscribe(ctx.get(), bad);
  v1::SubscribeResponse response;
  EXPECT_FALSE(reader->Read(&response)) << "no start token for a stream that does not start";
  const grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_NE(status.error_message().find("column 13"), std::string::npos)
      << status.error_message();
}

TEST_F(EgressGrpcTest, CredentialsAndUnknownProducts) {
  v1::SubscribeRequest request;
  request.set_product(kProduct);
  {
    auto ctx = context("");
    auto reader = stub_->Subscribe(ctx.get(), request);
    v1::SubscribeResponse response;
    EXPECT_FALSE(reader->Read(&response));
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    request.set_product("no.such.v1");
    auto ctx = context(kGlobexToken);
    auto reader = stub_->Subscribe(ctx.get(), request);
    v1::SubscribeResponse response;
    EXPECT_FALSE(reader->Read(&response));
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
  }
  {
    request.set_product(kProduct);
    request.set_resume_token("tampered");
    auto ctx = context(kGlobexToken);
    auto reader = stub_->Subscribe(ctx.get(), request);
    v1::SubscribeResponse response;
    EXPECT_FALSE(reader->Read(&response));
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  v1::ListProductsResponse products;
  auto ctx = context(kGlobexToken);
  ASSERT_TRUE(stub_->ListProducts(ctx.get(), v1::ListProductsRequest(), &products).ok());
  ASSERT_EQ(products.products_size(), 1);
  EXPECT_EQ(products.products(0).name(), kProduct);
  EXPECT_EQ(products.products(0).freshness_slo().seconds(), 30);
  // The contract as the HTTP listing shows it: globex has no policy, so no derived schema.
  ASSERT_EQ(products.products(0).contracts_size(), 1) << products.DebugString();
  const v1::ContractSide& plain = products.products(0).contracts(0).contract().value();
  EXPECT_EQ(plain.subject(), "payments.authorized-value");
  EXPECT_TRUE(plain.has_schema_id());
  EXPECT_EQ(plain.schema_id(), 7u);
  EXPECT_FALSE(plain.has_derived_schema());
  // acme's policy masks and drops fields: the derived schema says so.
  v1::ListProductsResponse acme;
  auto acme_ctx = context(kAcmeToken);
  ASSERT_TRUE(stub_->ListProducts(acme_ctx.get(), v1::ListProductsRequest(), &acme).ok());
  ASSERT_EQ(acme.products(0).contracts_size(), 1) << acme.DebugString();
  EXPECT_EQ(acme.products(0).headers_size(), 1);
  const v1::ContractSide& side = acme.products(0).contracts(0).contract().value();
  EXPECT_EQ(side.schema_id(), 7u);
  ASSERT_TRUE(side.has_derived_schema()) << acme.DebugString();
  const auto derived = nlohmann::json::parse(side.derived_schema());
  EXPECT_FALSE(derived["properties"].contains("internal_notes"));
  EXPECT_EQ(derived["properties"]["card"]["properties"]["number"]["type"], "string");
  EXPECT_EQ(side.derived_schema_problems_size(), 1);
}

TEST_F(EgressGrpcTest, ProductsListCommandShowsPartnersFreshnessAndContracts) {
  ASSERT_TRUE(testing::produceRecords(cluster_->bootstrap(), kTopic, kPartitions, 3));
  const std::string path = testing::writeTempFile(
      "products.yaml",
      "registries:\n  east-catalog: {catalog: " + dir_ +
          "/catalog}\n"
          "clusters:\n  east: {bootstrap: \"" +
          cluster_->bootstrap() +
          "\", registry: east-catalog}\n"
          "domains:\n  - name: payments\n    topics: [\"payments\\\\..*\"]\n"
          "    contracts: [{name: authorized, topics: [\"payments\\\\.authorized\"], "
          "value: {format: json}}]\n"
          "policies:\n  acme-policy:\n    topics: {allow: [\".*\"]}\n"
          "    fields: [{path: value.internal_notes, action: drop}]\n"
          "products:\n  - {name: " +
          kProduct +
          ", domain: payments, source: east, topics: [\"payments\\\\.authorized\"], "
          "freshness_slo: 30s}\npartners:\n  acme: {policy: acme-policy, products: [" +
          kProduct + "], auth: {tokens_file: " + dir_ +
          "/acme.tokens}}\n"
          "egress: {listen: \"127.0.0.1:0\"}\n");
  testing::ChildProcess cli({CAUSEWAY_BINARY, "products", "list", "-c", path, "--json"},
                            path + ".log");
  ASSERT_EQ(cli.wait(30s), 0) << cli.log();
  const std::string log = cli.log();
  auto json = nlohmann::json::parse(log.substr(log.find('{')));
  ASSERT_EQ(json["products"].size(), 1u);
  EXPECT_EQ(json["products"][0]["partners"], nlohmann::json::array({"acme"}));
  EXPECT_EQ(json["products"][0]["within_slo"], false) << "records from 2023";
  const auto& contract = json["products"][0]["contracts"][0]["contract"];
  EXPECT_EQ(contract["subject"], "payments.authorized-value") << log;
  EXPECT_EQ(contract["schema_id"], 7);
  EXPECT_FALSE(contract.contains("derived_schema")) << "no partner named: no policy applies";

  // With --partner: that partner's view, as its HTTP listing shows it.
  testing::ChildProcess acme(
      {CAUSEWAY_BINARY, "products", "list", "-c", path, "--partner", "acme", "--json"},
      path + ".acme.log");
  ASSERT_EQ(acme.wait(30s), 0) << acme.log();
  const std::string acme_log = acme.log();
  auto view = nlohmann::json::parse(acme_log.substr(acme_log.find('{')));
  const auto& derived = view["products"][0]["contracts"][0]["contract"]["derived_schema"];
  ASSERT_TRUE(derived.is_object()) << acme_log;
  EXPECT_FALSE(derived["properties"].contains("internal_notes"));
  EXPECT_TRUE(derived["properties"].contains("card"));

  // The table names the subject and the schema ID under the product.
  testing::ChildProcess table({CAUSEWAY_BINARY, "products", "list", "-c", path},
                              path + ".table.log");
  ASSERT_EQ(table.wait(30s), 0) << table.log();
  EXPECT_NE(table.log().find("  payments.authorized: contract payments.authorized (json), subject "
                             "payments.authorized-value, schema id 7 (version 1)"),
            std::string::npos)
      << table.log();
}

}  // namespace
}  // namespace causeway::egress
