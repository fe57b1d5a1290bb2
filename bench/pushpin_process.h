#pragma once

// Debian's Pushpin (and the zurl it proxies through) for causeway-egress-bench, unprivileged, on
// free ports, from a copy of /etc/pushpin/pushpin.conf, routing every request to one origin (the
// worker's egress port). The same setup as the Pushpin integration test
// (tests/support/egress_support.cc), without gtest. Benchmarks only.

#include "bench/bench_process.h"
#include "bench/egress_clients.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>

namespace causeway::bench {

struct PushpinProcess {
  int http_port = 0;
  int publish_port = 0;
  fs::path dir;
  fs::path sig_key_file;
  std::unique_ptr<Process> zurl;
  std::unique_ptr<Process> pushpin;

  std::string publishUrl() const {
    return "http://127.0.0.1:" + std::to_string(publish_port) + "/publish/";
  }

  // Lines of the handler's log containing `text` ("subscribe " counts held connections).
  size_t handlerLogCount(const std::string& text) const {
    std::ifstream in(dir / "log/pushpin-handler.log");
    size_t n = 0;
    std::string line;
    while (std::getline(in, line)) {
      n += line.find(text) != std::string::npos ? 1 : 0;
    }
    return n;
  }

  // Pushpin's processes (the runner and its services) and zurl.
  std::vector<pid_t> processes() const {
    std::vector<pid_t> tree = processTree(pushpin->pid());
    tree.push_back(zurl->pid());
    return tree;
  }

  // Null (with the reason on stderr) when Pushpin is not installed or does not start.
  static std::unique_ptr<PushpinProcess> start(const fs::path& dir, int origin_port) {
    std::ifstream in("/etc/pushpin/pushpin.conf");
    if (!in || !fs::exists("/usr/bin/pushpin") || !fs::exists("/usr/bin/zurl")) {
      std::cerr << "pushpin is not installed (scripts/install-deps.sh installs it)\n";
      return nullptr;
    }
    auto p = std::make_unique<PushpinProcess>();
    p->dir = dir;
    const std::string run = (dir / "run").string();
    fs::create_directories(run);
    fs::create_directories(dir / "log");
    p->http_port = freePort();
    p->publish_port = freePort();
    const std::string key = "pushpin-sig-key-" + std::to_string(getpid()) + "-0123456789";
    p->sig_key_file = dir / "pushpin.key";
    std::ofstream(p->sig_key_file) << key << "\n";
    // The packaged runner would start zurl with a config that refuses 127.*; zurl runs on its
    // own here, allowed to reach the origin on loopback.
    const std::map<std::string, std::string> replace = {
        {"include", "/usr/lib/pushpin/internal.conf"},
        {"rundir", run},
        {"logdir", (dir / "log").string()},
        {"services", "condure,pushpin-proxy,pushpin-handler"},
        {"http_port", std::to_string(p->http_port)},
        {"routesfile", (dir / "routes").string()},
        {"sig_key", key},
        {"push_in_spec", "tcp://127.0.0.1:" + std::to_string(freePort())},
        {"push_in_sub_specs", "tcp://127.0.0.1:" + std::to_string(freePort())},
        {"push_in_http_port", std::to_string(p->publish_port)},
        {"command_spec", "tcp://127.0.0.1:" + std::to_string(freePort())},
        {"message_rate", "1000000"},
        {"message_hwm", "1000000"},
    };
    std::ofstream conf(dir / "pushpin.conf");
    std::string line;
    while (std::getline(in, line)) {
      const size_t eq = line.find('=');
      if (!line.empty() && line[0] != '#' && eq != std::string::npos) {
        auto it = replace.find(line.substr(0, eq));
        if (it != replace.end()) {
          line = it->first + "=" + it->second;
        }
      }
      conf << line << "\n";
      if (line == "[proxy]") {
        conf << "zurl_out_specs=ipc://" << run << "/zurl-in\n"
             << "zurl_out_stream_specs=ipc://" << run << "/zurl-in-stream\n"
             << "zurl_in_specs=ipc://" << run << "/zurl-out\n";
      }
    }
    conf.close();
    std::ofstream(dir / "routes") << "* 127.0.0.1:" << origin_port << "\n";
    std::ofstream(dir / "zurl.conf")
        << "[General]\nin_spec=ipc://" << run << "/zurl-in\nin_stream_spec=ipc://" << run
        << "/zurl-in-stream\nout_spec=ipc://" << run
        << "/zurl-out\ndefpolicy=allow\nallow=\ndeny=\n"
           "max_open_requests=5000\nbuffer_size=200000\ntimeout=600\n"
           "in_hwm=5000\nout_hwm=5000\n";
    p->zurl = std::make_unique<Process>(
        std::vector<std::string>{"/usr/bin/zurl", "--config=" + (dir / "zurl.conf").string()},
        dir / "zurl.out");
    p->pushpin = std::make_unique<Process>(
        std::vector<std::string>{"/usr/bin/pushpin", "--config=" + (dir / "pushpin.conf").string()},
        dir / "pushpin.out");
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < until) {
      if (httpStatus(p->publish_port, "/", "") > 0 && httpStatus(p->http_port, "/", "") > 0) {
        return p;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::cerr << "pushpin did not start: " << p->pushpin->output() << "\n";
    return nullptr;
  }
};

}  // namespace causeway::bench
