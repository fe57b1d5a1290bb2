#include "app/commands.h"
#include "app/link_extensions.h"
#include "demo/demo_runner.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>

namespace causeway::app {
namespace {

std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "used from a signal handler");

extern "C" void onDemoSignal(int) {
  if (g_interrupted.exchange(true)) {
    _exit(130);  // a second Ctrl-C: the user does not want to wait for the clean stop
  }
}

// Installs the demo's SIGINT/SIGTERM handlers and restores the previous ones when it goes.
class SignalScope {
public:
  SignalScope() {
    struct sigaction action {};
    action.sa_handler = &onDemoSignal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous_int_);
    sigaction(SIGTERM, &action, &previous_term_);
  }
  ~SignalScope() {
    sigaction(SIGINT, &previous_int_, nullptr);
    sigaction(SIGTERM, &previous_term_, nullptr);
  }
  SignalScope(const SignalScope&) = delete;
  SignalScope& operator=(const SignalScope&) = delete;

private:
  struct sigaction previous_int_ {};
  struct sigaction previous_term_ {};
};

} // namespace

int runDemo(const DemoOptions& options) {
  demo::DemoSettings settings;
  settings.records = options.records;
  settings.rate = options.rate;
  settings.timeout = options.timeout;
  settings.tty = !options.plain && isatty(STDOUT_FILENO) == 1;
  settings.out = stdout;
  settings.serve_for = options.serve_for;
  LinkExtensionsHub extensions;  // the data-sharing part's partner policy
  settings.extensions = extensions.factory();
  g_interrupted.store(false);
  SignalScope signals;
  return demo::runDemoScenario(settings, g_interrupted).exitCode();
}

} // namespace causeway::app
