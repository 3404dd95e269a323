// Items of unequal cost (one patient's images, one image file) shared by a few threads that pull
// the next item from a common counter, so a slow item does not hold up a fixed share of the rest.
// For per-item work that catches its own errors: an exception escaping body terminates.
#pragma once

#include <cstddef>
#include <functional>

namespace cervirisk {

// Worker threads for `items` items: `requested` when > 0, else one per hardware thread; never
// more than the items, never fewer than 1.
unsigned worker_count(int requested, std::size_t items);

// Calls body(i) for every i in [0, n) on `threads` threads (the calling one among them), in no
// fixed order, and returns when all are done.
void parallel_for(std::size_t n, unsigned threads, const std::function<void(std::size_t)>& body);

}  // namespace cervirisk
