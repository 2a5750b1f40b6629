// How many threads one CPU kernel may use. Parallelism in salusd comes from
// its lanes, so a kernel's own threads (oneDNN's, through OpenMP) are few by
// default (--blas-threads, salusd.conf(5)); more would oversubscribe the
// cores the lanes share.
#pragma once

namespace salus {

// Sets the count for the OpenMP teams of every thread that attaches
// afterwards. Call once at start.
void set_cpu_math_threads(int threads);

// Applies the count to the calling thread's OpenMP teams (OpenMP keeps it
// per thread): every thread that runs CPU kernels calls this first.
void attach_cpu_math_threads();

} // namespace salus
