#include "common/output_guard.h"

#include "common/secrets.h"

#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <iostream>

namespace causeway {
namespace {

// Without a line end this much text is passed on anyway (a huge line is not held forever).
constexpr size_t kMaxPending = 64 * 1024;

[[noreturn]] void onTerminate() {
  const std::string line = fatalMessage(std::current_exception());
  // write(2), not the streams: they may be what failed.
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (n <= 0) {
      break;
    }
    done += static_cast<size_t>(n);
  }
  std::abort();
}

}  // namespace

std::string fatalMessage(std::exception_ptr error) {
  std::string line = "causeway: fatal: ";
  if (!error) {
    line += "terminated without an exception";
  } else {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      line += std::string("uncaught exception: ") + e.what();
    } catch (...) {
      line += "uncaught exception of an unknown type";
    }
  }
  secrets::redactInPlace(line);
  return line + "\n";
}

void RedactingStreambuf::pass(std::string text) {
  secrets::redactInPlace(text);
  target_->sputn(text.data(), static_cast<std::streamsize>(text.size()));
}

void RedactingStreambuf::passCompleteLines() {
  const size_t end = pending_.find_last_of("\r\n");
  if (end == std::string::npos) {
    if (pending_.size() >= kMaxPending) {
      pass(std::move(pending_));
      pending_.clear();
    }
    return;
  }
  std::string lines = pending_.substr(0, end + 1);
  pending_.erase(0, end + 1);
  pass(std::move(lines));
}

void RedactingStreambuf::finish() {
  if (!pending_.empty()) {
    pass(std::move(pending_));
    pending_.clear();
  }
  target_->pubsync();
}

RedactingStreambuf::int_type RedactingStreambuf::overflow(int_type c) {
  if (traits_type::eq_int_type(c, traits_type::eof())) {
    return traits_type::not_eof(c);
  }
  const char ch = traits_type::to_char_type(c);
  pending_ += ch;
  if (ch == '\n' || ch == '\r' || pending_.size() >= kMaxPending) {
    passCompleteLines();
  }
  return c;
}

std::streamsize RedactingStreambuf::xsputn(const char* s, std::streamsize n) {
  pending_.append(s, static_cast<size_t>(n));
  passCompleteLines();
  return n;
}

int RedactingStreambuf::sync() {
  passCompleteLines();
  return target_->pubsync();
}

OutputGuard::OutputGuard()
    : out_(std::make_unique<RedactingStreambuf>(std::cout.rdbuf())),
      err_(std::make_unique<RedactingStreambuf>(std::cerr.rdbuf())) {
  original_out_ = std::cout.rdbuf(out_.get());
  original_err_ = std::cerr.rdbuf(err_.get());
  std::set_terminate(onTerminate);
}

OutputGuard::~OutputGuard() {
  out_->finish();
  err_->finish();
  std::cout.rdbuf(original_out_);
  std::cerr.rdbuf(original_err_);
}

}  // namespace causeway
