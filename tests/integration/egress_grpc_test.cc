// causeway.v1.Egress over gRPC: the same products, credentials and resume semantics as the
// HTTP endpoints; and `causeway products list`.

#include "causeway/v1/egress.grpc.pb.h"
#include "egress/egress_server.h"
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
  void SetUp() override {
    cluster_ = testing::startCluster("east", 1, {{kTopic, kPartitions}});
    ASSERT_NE(cluster_, nullptr);
    dir_ = (std::filesystem::temp_directory_path() /
            ("causeway-egress-grpc-" + std::to_string(::getpid())))
               .string();
    config_ = testing::makeEgressConfig(cluster_->bootstrap(), dir_);
    config_.egress->grpc_listen = "127.0.0.1:0";
    EgressServer::Options options;
    options.stages = testing::testStageFactory();
    options.filters = testing::testFilterFactory();
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
}

TEST_F(EgressGrpcTest, ProductsListCommandShowsPartnersAndFreshness) {
  ASSERT_TRUE(testing::produceRecords(cluster_->bootstrap(), kTopic, kPartitions, 3));
  const std::string path = testing::writeTempFile(
      "products.yaml",
      "clusters:\n  east: {bootstrap: \"" + cluster_->bootstrap() +
          "\"}\nproducts:\n  - {name: " + kProduct +
          ", domain: payments, source: east, topics: [\"payments\\\\.authorized\"], "
          "freshness_slo: 30s}\npartners:\n  acme: {products: [" +
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
}

} // namespace
} // namespace causeway::egress
