// The op families: each file of salusd/ops/ declares a family's ops (schema
// and shape rules together) and is listed here once. The catalogue
// (doc/ops.md) keeps this order.
#pragma once

#include "graph/ops.h"

namespace salus {

void add_core_ops(OpList *ops);        // ops/core.cpp: the MLP set the daemon started with
void add_elementwise_ops(OpList *ops); // ops/elementwise.cpp
void add_conv_ops(OpList *ops);        // ops/conv.cpp
void add_norm_ops(OpList *ops);        // ops/norm.cpp
void add_shape_ops(OpList *ops);       // ops/shape.cpp
void add_loss_ops(OpList *ops);        // ops/loss.cpp

inline constexpr void (*kOpFamilies[])(OpList *) = {
    add_core_ops, add_elementwise_ops, add_shape_ops, add_conv_ops, add_norm_ops, add_loss_ops,
};

} // namespace salus
