#include "common/reloading_file.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

namespace causeway {

std::optional<FileIdentity> FileIdentity::of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return std::nullopt;
  }
  return FileIdentity{static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                      static_cast<int64_t>(st.st_size), static_cast<uint64_t>(st.st_ino)};
}

namespace detail {

void logReloadRejected(const std::string& what, const std::string& problem) {
  spdlog::error("{}: {}; the previous content stays in force", what, problem);
}

void logReloadAccepted(const std::string& what, const std::string& path) {
  spdlog::info("{}: '{}' changed: the new content is in force", what, path);
}

} // namespace detail
} // namespace causeway
