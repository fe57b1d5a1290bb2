#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace causeway {

void initLogging(const std::string& level) {
  auto logger = spdlog::get("causeway");
  if (!logger) {
    logger = spdlog::stderr_color_mt("causeway");
  }
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

} // namespace causeway
