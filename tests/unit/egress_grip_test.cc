// The GRIP pieces of the Pushpin mode that read outside input: the Grip-Last header Pushpin
// sends on recovery, and the signed session of a held stream's next link.

#include "egress/pushpin.h"

#include <gtest/gtest.h>

namespace causeway::egress {
namespace {

TEST(EgressGripTest, GripLastIdFindsTheChannelsLastId) {
  const std::string channel = gripChannel("acme", "payments.authorized.v1");
  EXPECT_EQ(channel, "causeway:acme:payments.authorized.v1");
  EXPECT_EQ(gripLastId(channel + "; last-id=AbC_-1", channel), "AbC_-1");
  EXPECT_EQ(gripLastId("other; last-id=x, " + channel + "; last-id=\"q2\"", channel), "q2");
  EXPECT_EQ(gripLastId("other; last-id=x", channel), std::nullopt);
  EXPECT_EQ(gripLastId(channel, channel), std::nullopt);
  EXPECT_EQ(gripLastId("", channel), std::nullopt);
  EXPECT_EQ(gripLastId(channel + "x; last-id=1", channel), std::nullopt) << "a longer name";
}

TEST(EgressGripTest, SessionsRoundTripAndRefuseTamperingOrAnotherProduct) {
  GripSessions sessions("a-secret-of-at-least-thirty-two-bytes!!");
  Identity who;
  who.partner = "acme";
  who.token_id = "acme-1";
  who.method = "token";
  const std::string session = sessions.encode(who, "p.v1");
  auto decoded = sessions.decode(session, "p.v1");
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->partner, "acme");
  EXPECT_EQ(decoded->token_id, "acme-1");
  EXPECT_EQ(decoded->method, "token");
  EXPECT_FALSE(sessions.decode(session, "p.v2")) << "bound to its product";
  EXPECT_FALSE(GripSessions("another-secret-of-at-least-thirty-two-bytes").decode(session, "p.v1"));
  std::string tampered = session;
  tampered[0] = tampered[0] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(sessions.decode(tampered, "p.v1"));
  EXPECT_FALSE(sessions.decode("", "p.v1"));
  EXPECT_FALSE(sessions.decode("no-dot", "p.v1"));
  EXPECT_FALSE(sessions.decode("!!.!!", "p.v1"));
  EXPECT_FALSE(sessions.decode(session.substr(0, session.find('.') + 1), "p.v1"));
}

}  // namespace
}  // namespace causeway::egress
