// Replaces the global operator new so a test can count the allocations made
// while g_counting is set. Include it from exactly one file of a test program.
#pragma once

#include <cstdlib>
#include <new>

namespace {
bool g_counting = false;
long g_allocations = 0;
} // namespace

// Out of line so that a tool which redirects new/delete (valgrind) sees every
// call, and GCC does not mistake the inlined free() for a mismatched delete.
__attribute__((noinline)) void *operator new(std::size_t n) {
    if (g_counting) ++g_allocations;
    if (void *p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
__attribute__((noinline)) void operator delete(void *p) noexcept {
    std::free(p);
}
__attribute__((noinline)) void operator delete(void *p, std::size_t) noexcept {
    std::free(p);
}
