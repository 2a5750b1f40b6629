// The shape family: concatenation, splitting, slicing, tiling, gathering and
// Gemm (batched MatMul is in core.cpp). Shape rules: ops/shape_rules.cpp.
// Data movement takes every dtype (the kernels move bytes); the gradients are
// f32 like the rest of the math.
#include "ops/op_families.h"
#include "ops/shape_rules.h"

namespace salus {

void add_shape_ops(OpList *ops) {
    using T = AttrValue::Type;
    const DTypeSet any = kAllDTypes;
    const DTypeSet ints = kIntegerDTypes;
    const char *layout = "Shape and data movement";
    const char *math = "Linear algebra and arithmetic";
    ops->push_back(
        OpDef("Concat", layout)
            .doc("inputs joined along `axis` (negative counts from the end); every input has one "
                 "rank and dtype and the same extents outside `axis`")
            .variadic_input("inputs", any).output("concat_result", "the inputs' dtype")
            .required_attr("axis", T::Int).infer(infer_concat).build());
    ops->push_back(
        OpDef("Split", layout)
            .doc("input cut along `axis` into consecutive parts, one per output: of the sizes in "
                 "`split`, or else `num_outputs` (or, absent too, as many as the node has outputs) "
                 "equal parts, the last one smaller when the extent does not divide (ONNX 18)")
            .input("input", any).variadic_output("outputs", "the input's dtype")
            .attr_int("axis", 0).optional_attr("split", T::Ints, "sizes summing to the extent")
            .optional_attr("num_outputs", T::Int, "absent: the node's output count")
            .infer(infer_split).build());
    const OpSchema slice =
        OpDef("Slice", layout)
            .doc("data[starts:ends:steps] on `axes` (absent: 0, 1, ...), as ONNX: a negative start "
                 "or end counts from the end, both are then clamped to [0, dim] ([0, dim−1] and "
                 "[−1, dim−1] for a negative step); axes not named are taken whole")
            .input("data", any).output("output", "data's dtype")
            .required_attr("starts", T::Ints).required_attr("ends", T::Ints)
            .optional_attr("axes", T::Ints, "absent: the first len(starts) axes")
            .optional_attr("steps", T::Ints, "absent: all 1; none may be 0")
            .infer(infer_slice).build();
    ops->push_back(slice);
    ops->push_back(
        OpDef("SliceGrad", layout)
            .doc("dX of Slice: zeros of `shape` (the data's) with dY written where the slice took "
                 "its elements; same attributes as the Slice")
            .input("dY").output("dX", "`shape`").required_attr("shape", T::Ints, "data's shape")
            .attrs_of(slice, {"starts", "ends", "axes", "steps"})
            .infer(infer_slice_grad).build());
    ops->push_back(OpDef("Squeeze", layout)
                       .doc("data without the size-1 axes listed in `axes` (each must be of size 1)")
                       .input("data", any).output("squeezed", "data's dtype")
                       .optional_attr("axes", T::Ints, "absent: every size-1 axis")
                       .infer(infer_squeeze).build());
    ops->push_back(OpDef("Unsqueeze", layout)
                       .doc("data with size-1 axes inserted so that they sit at `axes` of the "
                            "output (negative counts from the output's end)")
                       .input("data", any).output("expanded", "data's dtype")
                       .required_attr("axes", T::Ints).infer(infer_unsqueeze).build());
    ops->push_back(
        OpDef("Flatten", layout)
            .doc("input as a matrix [d0·…·d(axis−1), d(axis)·…·d(n−1)] (ONNX: always 2-D, unlike "
                 "torch.flatten); axis in [−rank, rank]")
            .input("input", any).output("output", "the input's dtype").attr_int("axis", 1)
            .infer(infer_flatten).build());
    ops->push_back(OpDef("Tile", layout)
                       .doc("input repeated `repeats[d]` times along each axis d (numpy.tile with "
                            "one repeat per axis)")
                       .input("input", any).output("output", "the input's dtype")
                       .required_attr("repeats", T::Ints, "one >= 0 per axis")
                       .infer(infer_tile).build());
    ops->push_back(OpDef("TileGrad", layout)
                       .doc("dX of Tile: the sum of dY's tiles, each of `shape` (the input's)")
                       .input("dY").output("dX", "`shape`")
                       .required_attr("shape", T::Ints, "the Tile input's shape")
                       .infer(infer_tile_grad).build());
    const OpSchema gather =
        OpDef("Gather", layout)
            .doc("entries of data along `axis` picked by indices: Y = data[:, …, indices, …] of "
                 "shape data[:axis] + indices + data[axis+1:]; an embedding lookup with axis 0. A "
                 "negative index counts from the end; one outside [−n, n) fails the iteration "
                 "(SALUS_EEXEC)")
            .input("data", any).input("indices", ints, "any shape").output("output", "data's dtype")
            .attr_int("axis", 0).infer(infer_gather).build();
    ops->push_back(gather);
    ops->push_back(
        OpDef("GatherGrad", layout)
            .doc("dData of Gather: zeros of `shape` with each slice of dY added at its index "
                 "(scatter-add, summed in index order: deterministic); indices as in Gather")
            .input("dY").input("indices", ints).output("dData", "`shape`")
            .required_attr("shape", T::Ints, "data's shape").attrs_of(gather, {"axis"})
            .infer(infer_gather_grad).build());
    const OpSchema gather_elements =
        OpDef("GatherElements", layout)
            .doc("Y[i][j][k] = data[index[i][j][k]][j][k] for axis 0 (and so on): torch.gather. "
                 "indices has data's rank and at most its extents off `axis`; Y has indices' "
                 "shape. Negative indices count from the end; one out of range is handled as "
                 "in Gather")
            .input("data", any).input("indices", ints).output("output", "data's dtype")
            .attr_int("axis", 0).infer(infer_gather_elements).build();
    ops->push_back(gather_elements);
    ops->push_back(
        OpDef("GatherElementsGrad", layout)
            .doc("dData of GatherElements: ScatterElements with reduction add of dY into zeros "
                 "of `shape` (summed in index order: deterministic)")
            .input("dY").input("indices", ints).output("dData", "`shape`")
            .required_attr("shape", T::Ints, "data's shape")
            .attrs_of(gather_elements, {"axis"}).infer(infer_gather_elements_grad).build());
    ops->push_back(
        OpDef("Gemm", math)
            .doc("Y = alpha · op(A) · op(B) + beta · C, op = transpose when the flag is 1; op(A) "
                 "is [M,K], op(B) [K,N], C broadcasts to [M,N] (absent: 0)")
            .input("A", kF32Only, "rank 2").input("B", kF32Only, "rank 2")
            .optional_input("C", kF32Only, "broadcasts to [M,N]").output("Y", "[M,N]")
            .attr_float("alpha", 1.0).attr_float("beta", 1.0).attr_int("transA", 0)
            .attr_int("transB", 0).infer(infer_gemm).build());
}

} // namespace salus
