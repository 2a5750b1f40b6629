// The op families: each file of salusd/ops/ declares a family's ops (schema
// and shape rules together) and is listed here once. The catalogue
// (doc/ops.md) keeps this order.
#pragma once

#include "graph/ops.h"

namespace salus {

void add_core_ops(OpList *ops); // ops/core.cpp: the MLP set the daemon started with

inline constexpr void (*kOpFamilies[])(OpList *) = {
    add_core_ops,
};

} // namespace salus
