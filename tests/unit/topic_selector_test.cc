#include "replicator/topic_selector.h"

#include <gtest/gtest.h>

namespace causeway::replicator {
namespace {

config::LinkConfig link(std::vector<std::string> include, std::vector<std::string> exclude = {}) {
  config::LinkConfig l;
  l.name = "east-to-west";
  l.source = "east";
  l.target = "west";
  l.topics.include = std::move(include);
  l.topics.exclude = std::move(exclude);
  return l;
}

TEST(TopicSelector, IncludeMustMatchTheWholeName) {
  auto s = TopicSelector::create(link({"orders"}));
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->selects("orders"));
  EXPECT_FALSE(s->selects("orders2"));
  EXPECT_FALSE(s->selects("my-orders"));
}

TEST(TopicSelector, ExcludeWinsOverInclude) {
  auto s = TopicSelector::create(link({"orders\\..*"}, {".*\\.internal"}));
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->selects("orders.eu"));
  EXPECT_FALSE(s->selects("orders.internal"));
  EXPECT_FALSE(s->selects("payments.eu"));
}

TEST(TopicSelector, InternalTopicsAreNeverSelected) {
  auto s = TopicSelector::create(link({".*"}));
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->selects("__consumer_offsets"));
  EXPECT_FALSE(s->selects("__transaction_state"));
  EXPECT_FALSE(s->selects("causeway.east-to-west.state"));
  EXPECT_TRUE(s->selects("anything.else"));
}

TEST(TopicSelector, BadRegexIsAnErrorNamingThePattern) {
  auto s = TopicSelector::create(link({"orders("}));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("orders("), std::string::npos);
}

TEST(TopicSelector, IdentityNaming) {
  auto s = TopicSelector::create(link({".*"}));
  EXPECT_EQ(s->targetTopic("orders"), "orders");
}

TEST(TopicSelector, PrefixNaming) {
  auto l = link({".*"});
  l.naming = {config::NamingMode::kPrefix, "east."};
  auto s = TopicSelector::create(l);
  EXPECT_EQ(s->targetTopic("orders"), "east.orders");
}

TEST(TopicSelector, TemplateNamingSubstitutesEveryPlaceholder) {
  auto l = link({".*"});
  l.naming = {config::NamingMode::kTemplate, "{source}-{target}.{link}.{topic}.mirror"};
  auto s = TopicSelector::create(l);
  EXPECT_EQ(s->targetTopic("orders"), "east-west.east-to-west.orders.mirror");
}

TEST(TopicSelector, TemplateKeepsUnknownBracesLiterally) {
  auto l = link({".*"});
  l.naming = {config::NamingMode::kTemplate, "{topic}{x}{"};
  auto s = TopicSelector::create(l);
  EXPECT_EQ(s->targetTopic("t"), "t{x}{");
}

} // namespace
} // namespace causeway::replicator
