#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace causeway {

// Runs work(i) for every i in [0, count) on up to `width` threads, the calling thread included, and
// returns once every item has run. Items are handed out in order from a shared counter, so a slow
// item holds only its own thread. For blocking calls on independent clients (one round trip each):
// P of them cost about ceil(P / width) round trips instead of P.
//
// When the system has no thread to give, fewer run at once (logged with `what`); every item still
// runs. `work` must not throw.
void runConcurrently(size_t count, size_t width, std::string_view what,
                     const std::function<void(size_t)>& work);

}  // namespace causeway
