// Which links a reload restarts: those whose own settings changed, and those whose stages read
// more than their settings (policies, contracts, catalogs), which LinkExtensions names.

#include "replicator/link_extensions.h"
#include "replicator/worker.h"
#include "tests/support/test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::makeConfig;
using testing::startCluster;

// Adds no stage; says that the link named `depends` reads more than its own settings.
class DependentLinkExtensions final : public replicator::LinkExtensions {
public:
  explicit DependentLinkExtensions(std::string depends) : depends_(std::move(depends)) {}

  Result<std::vector<pipeline::StagePtr>> makeStages(const config::LinkConfig&) override {
    return std::vector<pipeline::StagePtr>{};
  }
  bool allowsTopic(const config::LinkConfig&, std::string_view) const override { return true; }
  bool restartsOnReload(const config::LinkConfig& link) const override {
    return link.name == depends_;
  }

private:
  std::string depends_;
};

TEST(WorkerReload, RestartsChangedLinksAndLinksWhoseStagesDependOnMore) {
  // given: two running links, one of which has stages that depend on other sections
  auto source = startCluster("source", 1, {{"orders", 1}, {"payments", 1}});
  auto target = startCluster("target", 1);
  ASSERT_TRUE(source && target);
  auto config = makeConfig(*source, *target, {"orders"});
  config.links[0].name = "plain";
  auto checked = config.links[0];
  checked.name = "checked";
  checked.topics.include = {"payments"};
  config.links.push_back(checked);
  replicator::Worker worker(
      config, [](const config::Config&) -> Result<replicator::LinkExtensionsPtr> {
        return replicator::LinkExtensionsPtr(std::make_shared<DependentLinkExtensions>("checked"));
      });
  ASSERT_TRUE(worker.start().ok());

  // when: the same configuration is reloaded
  auto same = worker.reload(config);
  ASSERT_TRUE(same.ok()) << same.error().message;

  // then: only the dependent link restarts
  EXPECT_THAT(same->unchanged, ElementsAre("plain"));
  EXPECT_THAT(same->restarted, ElementsAre("checked"));

  // when: settings that used to be ignored change: topic config sync, the schemas block, the
  // source cluster's registry
  auto synced = config;
  synced.links[0].topic_configs.interval = 60s;
  auto after_sync = worker.reload(synced);
  ASSERT_TRUE(after_sync.ok()) << after_sync.error().message;
  EXPECT_THAT(after_sync->restarted, ::testing::Contains("plain"));

  auto schemas = synced;
  schemas.links[0].schemas.translate_keys = true;
  auto after_schemas = worker.reload(schemas);
  ASSERT_TRUE(after_schemas.ok()) << after_schemas.error().message;
  EXPECT_THAT(after_schemas->restarted, ::testing::Contains("plain"));

  auto registry = schemas;
  registry.clusters.at(registry.links[0].source).registry = "east-sr";
  auto after_registry = worker.reload(registry);
  ASSERT_TRUE(after_registry.ok()) << after_registry.error().message;
  EXPECT_THAT(after_registry->restarted, ::testing::Contains("plain"));
  EXPECT_THAT(after_registry->removed, IsEmpty());

  worker.stop(10s);
}

}  // namespace
}  // namespace causeway
