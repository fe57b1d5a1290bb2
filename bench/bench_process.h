#pragma once

// Child processes and /proc accounting for causeway-egress-bench: a process with its output in
// a file (stopped with SIGTERM, then SIGKILL, when destroyed), the CPU seconds and memory of a
// process or of a whole process tree (Pushpin runs its services as children). Benchmarks only.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace causeway::bench {

namespace fs = std::filesystem;

// The children alive now, for stopChildrenOnSignal().
inline std::set<pid_t>& liveChildren() {
  static std::set<pid_t> children;
  return children;
}

// SIGINT / SIGTERM stop every child with SIGTERM (Pushpin's runner stops its services on it),
// then end this process: an interrupted run leaves no cluster, worker or Pushpin behind.
inline void stopChildrenOnSignal() {
  auto handler = [](int sig) {
    for (pid_t pid : liveChildren()) {
      kill(pid, SIGTERM);
    }
    _exit(128 + sig);
  };
  signal(SIGINT, handler);
  signal(SIGTERM, handler);
}

// A child process whose stdout and stderr go to one file; killed when this process exits.
class Process {
public:
  Process(const std::vector<std::string>& argv, const fs::path& log) : log_(log) {
    pid_ = fork();
    if (pid_ > 0) {
      liveChildren().insert(pid_);
    }
    if (pid_ == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
      }
      std::vector<char*> args;
      for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
      }
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
  }
  ~Process() {
    stop();
    liveChildren().erase(pid_);
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running() {
    if (pid_ <= 0 || exited_) {
      return false;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      status_ = status;
    }
    return !exited_;
  }
  int status() const { return status_; }
  std::string output() const {
    std::ifstream in(log_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  // SIGTERM, SIGKILL after 20 s.
  void stop() {
    if (pid_ <= 0 || !running()) {
      return;
    }
    kill(pid_, SIGTERM);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (running() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (running()) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status_, 0);
      exited_ = true;
    }
  }

private:
  pid_t pid_ = -1;
  fs::path log_;
  bool exited_ = false;
  int status_ = 0;
};

inline std::string loadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// utime + stime of `pid` in seconds (/proc/PID/stat fields 14 and 15).
inline double cpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) {
    return 0;
  }
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) {
      utime = std::stoull(field);
    } else if (i == 15) {
      stime = std::stoull(field);
    }
  }
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

// A /proc/PID/status line in MiB (VmHWM: peak resident set, VmRSS: now).
inline double statusMiB(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) {
      return std::stod(line.substr(key.size() + 1)) / 1024.0;
    }
  }
  return 0;
}

// `pid` and every process below it (from the parent ids in /proc/*/stat).
inline std::vector<pid_t> processTree(pid_t pid) {
  std::multimap<pid_t, pid_t> children;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::ifstream in(entry.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close == std::string::npos) {
      continue;
    }
    std::istringstream fields(text.substr(close + 2));
    std::string state;
    pid_t parent = 0;
    fields >> state >> parent;
    children.emplace(parent, static_cast<pid_t>(std::stol(name)));
  }
  std::vector<pid_t> tree = {pid};
  for (size_t i = 0; i < tree.size(); ++i) {
    auto [begin, end] = children.equal_range(tree[i]);
    for (auto it = begin; it != end; ++it) {
      tree.push_back(it->second);
    }
  }
  return tree;
}

// CPU seconds of the live processes of a tree.
inline double treeCpuSeconds(const std::vector<pid_t>& tree) {
  double sum = 0;
  for (pid_t pid : tree) {
    sum += cpuSeconds(pid);
  }
  return sum;
}

// A /proc/PID/status figure summed over a tree, in MiB.
inline double treeStatusMiB(const std::vector<pid_t>& tree, const std::string& key) {
  double sum = 0;
  for (pid_t pid : tree) {
    sum += statusMiB(pid, key);
  }
  return sum;
}

}  // namespace causeway::bench
