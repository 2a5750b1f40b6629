// The elementwise family: arithmetic, math functions, comparisons, logic, casts and activations beyond the MLP set.
#include "ops/op_families.h"

namespace salus {

void add_elementwise_ops(OpList *ops) {
    (void)ops;
}

} // namespace salus
