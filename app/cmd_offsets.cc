// causeway offsets translate --config F --link L --group G [--json] [--scan]

#include "app/commands.h"
#include "config/config_loader.h"
#include "replicator/offset_translation.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

namespace causeway::app {

int runOffsetsTranslate(const TranslateOptions& options) {
  auto loaded = config::loadConfigFile(options.config_path);
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors) {
      std::cerr << error.str() << "\n";
    }
    return 1;
  }
  auto translated = replicator::translateGroupOffsets(
      *loaded.config, options.link, options.group, std::chrono::seconds(30),
      options.scan ? replicator::StateUse::kIgnored : replicator::StateUse::kRequired);
  if (!translated) {
    std::cerr << "causeway offsets translate: " << translated.error().message << "\n";
    return 1;
  }
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& t : *translated) {
      out.push_back({{"source_topic", t.source_topic},
                     {"target_topic", t.target_topic},
                     {"partition", t.partition},
                     {"source_offset", t.source_offset},
                     {"target_offset", t.target_offset},
                     {"not_yet_replicated", t.not_yet_replicated},
                     {"resume", replicator::toString(t.resume)},
                     {"target_end", t.target_end},
                     {"target_high", t.target_high},
                     {"rereads_possible", t.rereads_possible},
                     {"method", t.method},
                     {"records_read", t.records_read}});
    }
    std::cout << nlohmann::json{{"link", options.link},
                                {"group", options.group},
                                {"partitions", out}}
                     .dump(2)
              << "\n";
    return 0;
  }
  const bool rereads = !translated->empty() && translated->front().rereads_possible;
  std::printf("group '%s' through link '%s'\n", options.group.c_str(), options.link.c_str());
  std::printf("%-24s %9s %14s   %-24s %14s %18s\n", "SOURCE TOPIC", "PARTITION", "SOURCE OFFSET",
              "TARGET TOPIC", "TARGET OFFSET", "NOT YET REPLICATED");
  for (const auto& t : *translated) {
    auto offset = [](int64_t v) { return v < 0 ? std::string("-") : std::to_string(v); };
    const std::string target =
        t.source_offset < 0
            ? "(no commit)"
            : (t.target_offset >= 0
                   ? offset(t.target_offset)
                   : (t.resume == replicator::ResumeReason::kHiddenByTransaction ? "(open txn)"
                                                                                 : "(not yet)"));
    std::printf("%-24s %9d %14s   %-24s %14s %18s\n", t.source_topic.c_str(), t.partition,
                offset(t.source_offset).c_str(), t.target_topic.c_str(), target.c_str(),
                offset(t.not_yet_replicated).c_str());
  }
  if (rereads) {
    std::printf("at-least-once link: offsets are the FIRST copy of each next "
                "record; a consumer "
                "starting there may read again records it already read (never "
                "skips one)\n");
  }
  for (const auto& t : *translated) {
    if (t.resume == replicator::ResumeReason::kHiddenByTransaction) {
      std::printf("(open txn): the records are on the target past its last "
                  "stable offset, "
                  "readable once that transaction ends\n");
      break;
    }
  }
  return 0;
}

}  // namespace causeway::app
