// What salusd does with a client's graph buffer on a worker (dispatcher.cpp's
// build_executable), up to the plan: import, validate, plan. Shared by the
// graph and frame fuzz targets.
#pragma once

#include <cstddef>
#include <cstdint>

namespace salus::fuzz {

// Runs a buffer that passed frame::verify_graph() (or that this verifies,
// when `verified` is false) through import_graph, validate_graph and
// plan_memory. Refusals are fine; only a crash or a sanitizer report is a
// finding.
void run_graph_pipeline(const uint8_t *data, size_t size, bool verified);

} // namespace salus::fuzz
