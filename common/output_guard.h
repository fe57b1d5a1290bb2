#pragma once

// Hides secrets (common/secrets.h) in what the process prints outside its log: lines written to
// std::cout and std::cerr (command output, configuration errors, "link failed" messages) and the
// message of an exception nobody caught. The log has its own guard (common/log.h).

#include <exception>
#include <memory>
#include <streambuf>
#include <string>

namespace causeway {

// A stream buffer that passes text on to `target` line by line, each line redacted first. A
// line is held until its end ('\n' or '\r') arrives, so a secret written in pieces
// (`std::cerr << "password=" << value`) is still seen whole; flush() passes on complete lines
// only, and finish() whatever is left. Not thread-safe, like the standard streams it replaces.
class RedactingStreambuf : public std::streambuf {
public:
  explicit RedactingStreambuf(std::streambuf* target) : target_(target) {}
  ~RedactingStreambuf() override { finish(); }

  // Passes on the incomplete last line too.
  void finish();

protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;
  int sync() override;

private:
  void passCompleteLines();
  void pass(std::string text);

  std::streambuf* target_;
  std::string pending_;
};

// Installs redaction on std::cout and std::cerr, and a terminate handler that prints an uncaught
// exception's message redacted before aborting. One per process, made first thing in main();
// its destructor passes on what is still pending and restores the streams.
class OutputGuard {
public:
  OutputGuard();
  ~OutputGuard();
  OutputGuard(const OutputGuard&) = delete;
  OutputGuard& operator=(const OutputGuard&) = delete;

private:
  std::unique_ptr<RedactingStreambuf> out_;
  std::unique_ptr<RedactingStreambuf> err_;
  std::streambuf* original_out_ = nullptr;
  std::streambuf* original_err_ = nullptr;
};

// The line the terminate handler prints for the exception in flight (exposed for tests).
std::string fatalMessage(std::exception_ptr error);

}  // namespace causeway
