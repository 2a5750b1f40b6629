"""The builder's methods for the shape family of ops (salusd/ops/shape.cpp):
PyTorch's names, arguments and defaults where PyTorch has the op. Shapes come
from the daemon's rules (self._one / self._many); nothing here infers one."""

import numbers

from . import _dtypes
from ._errors import GraphError

_INDEX_DTYPES = (_dtypes.int32, _dtypes.int64)


def _ints(values):
    return [int(v) for v in values]


class ShapeOps:
    """Methods of Graph for the shape ops (a mixin over GraphCore and Ops)."""

    def _many(self, op, auto, inputs, attrs, count, name):
        """The `count` outputs of a new node (a tuple), shapes by the daemon."""
        node_name = name if name is not None else self._auto_name(auto)
        outputs = self._infer(op, inputs, attrs, count, node_name)
        return self._node(op, inputs, attrs, outputs, node_name, auto).outputs

    def _indices(self, indices, what):
        indices = self._own(indices, what)
        if indices.dtype not in _INDEX_DTYPES:
            raise GraphError(f"{what}: indices (tensor {indices.name!r}) are "
                             f"{indices.dtype.name}; {what} takes int32 or int64")
        return indices

    # ---- joining and cutting ---------------------------------------------------

    def cat(self, tensors, axis=0, name=None):
        """The tensors joined along axis, as torch.cat (Concat). Any dtype, one
        for all."""
        tensors = [self._own(t, "cat") for t in tensors]
        if not tensors:
            raise GraphError("cat: needs at least one tensor")
        return self._one("Concat", "cat", tensors, {"axis": int(axis)}, name)

    concat = cat

    def split(self, x, split_size_or_sections, dim=0, name=None):
        """x cut along dim into a tuple of tensors, as torch.split: pieces of
        split_size_or_sections elements (the last one smaller), or of the
        sizes listed (Split)."""
        x = self._own(x, "split")
        if isinstance(split_size_or_sections, numbers.Integral):
            size = int(split_size_or_sections)
            if size <= 0:
                raise GraphError(f"split: split size must be positive, got {size}")
            if not x.ndim or not -x.ndim <= dim < x.ndim:
                raise GraphError(f"split: dim {dim} is out of range for {x.shape}")
            extent = x.shape[dim]
            sections = [size] * (extent // size) + ([extent % size] if extent % size else [])
            sections = sections or [0]
        else:
            sections = _ints(split_size_or_sections)
        return self._many("Split", "split", [x], {"axis": int(dim), "split": sections},
                          len(sections), name)

    def slice(self, x, starts, ends, axes=None, steps=None, name=None):
        """x[starts:ends:steps] on axes (the first len(starts) when None), ONNX's
        Slice: negative bounds count from the end and are clamped (Slice)."""
        x = self._own(x, "slice")
        attrs = {"starts": _ints(starts), "ends": _ints(ends)}
        if axes is not None:
            attrs["axes"] = _ints(axes)
        if steps is not None:
            attrs["steps"] = _ints(steps)
        return self._one("Slice", "slice", [x], attrs, name)

    def squeeze(self, x, dim=None, name=None):
        """x without its size-1 axes (all of them, or dim: an int or a tuple,
        each of size 1) (Squeeze)."""
        x = self._own(x, "squeeze")
        attrs = {}
        if dim is not None:
            attrs["axes"] = [int(dim)] if isinstance(dim, numbers.Integral) else _ints(dim)
        return self._one("Squeeze", "squeeze", [x], attrs, name)

    def unsqueeze(self, x, dim, name=None):
        """x with a size-1 axis inserted at dim, as torch.unsqueeze (Unsqueeze)."""
        x = self._own(x, "unsqueeze")
        dims = [int(dim)] if isinstance(dim, numbers.Integral) else _ints(dim)
        return self._one("Unsqueeze", "unsqueeze", [x], {"axes": dims}, name)

    def flatten(self, x, start_dim=1, name=None):
        """x as a matrix [prod(shape[:start_dim]), prod(shape[start_dim:])]: ONNX's
        Flatten, always 2-D. For a 2-D or larger x with start_dim 1 that is
        torch.flatten(x, 1); torch.flatten with other arguments keeps more
        axes, which reshape gives (Flatten)."""
        x = self._own(x, "flatten")
        return self._one("Flatten", "flatten", [x], {"axis": int(start_dim)}, name)

    def tile(self, x, repeats, name=None):
        """x repeated along each axis, as torch.tile: fewer repeats than axes
        are padded with leading 1s, more add leading axes to x (Tile)."""
        x = self._own(x, "tile")
        repeats = _ints(repeats)
        if len(repeats) > x.ndim:
            x = self.reshape(x, (1,) * (len(repeats) - x.ndim) + tuple(x.shape))
        repeats = [1] * (x.ndim - len(repeats)) + repeats
        return self._one("Tile", "tile", [x], {"repeats": repeats}, name)

    # ---- gathering ----------------------------------------------------------------

    def gather(self, x, indices, axis=0, name=None):
        """x's entries along axis picked by indices (int32 or int64, any shape):
        shape x.shape[:axis] + indices.shape + x.shape[axis+1:], as ONNX's
        Gather (torch.index_select for 1-D indices). A negative index counts
        from the end; one out of range fails the iteration (Gather)."""
        x = self._own(x, "gather")
        indices = self._indices(indices, "gather")
        return self._one("Gather", "gather", [x, indices], {"axis": int(axis)}, name)

    def embedding(self, indices, weight, name=None):
        """Rows of weight [num_embeddings, dim] picked by indices, as
        torch.nn.functional.embedding (Gather on axis 0)."""
        return self.gather(weight, indices, 0, name=name)

    def gather_elements(self, x, dim, index, name=None):
        """out[i][j] = x[index[i][j]][j] for dim 0 (and so on): torch.gather
        (GatherElements)."""
        x = self._own(x, "gather_elements")
        index = self._indices(index, "gather_elements")
        return self._one("GatherElements", "gather_elements", [x, index], {"axis": int(dim)},
                         name)

    # ---- linear algebra -------------------------------------------------------------

    def gemm(self, a, b, c=None, alpha=1.0, beta=1.0, trans_a=False, trans_b=False, name=None):
        """alpha * op(a) @ op(b) + beta * c for matrices a and b (op transposes
        when asked), c broadcasting to the result (Gemm)."""
        a, b = self._operand(a, "gemm"), self._operand(b, "gemm")
        inputs = [a, b]
        if c is not None:
            c = self._operand(c, "gemm")
            inputs.append(c)
        self._float32("gemm", a=a, b=b, c=c)
        attrs = {"alpha": float(alpha), "beta": float(beta), "transA": int(bool(trans_a)),
                 "transB": int(bool(trans_b))}
        return self._one("Gemm", "gemm", inputs, attrs, name)

    # ---- backward ops, for graphs that write their own backward pass -----------

    def slice_grad(self, dy, shape, starts, ends, axes=None, steps=None, name=None):
        """Zeros of shape with dy where Slice took its elements (SliceGrad)."""
        dy = self._own(dy, "slice_grad")
        self._float32("slice_grad", dy=dy)
        attrs = {"shape": _ints(shape), "starts": _ints(starts), "ends": _ints(ends)}
        if axes is not None:
            attrs["axes"] = _ints(axes)
        if steps is not None:
            attrs["steps"] = _ints(steps)
        return self._one("SliceGrad", "slice_grad", [dy], attrs, name)

    def tile_grad(self, dy, shape, name=None):
        """The sum of dy's tiles of shape (TileGrad)."""
        dy = self._own(dy, "tile_grad")
        self._float32("tile_grad", dy=dy)
        return self._one("TileGrad", "tile_grad", [dy], {"shape": _ints(shape)}, name)

    def gather_grad(self, dy, indices, shape, axis=0, name=None):
        """Zeros of shape with dy's slices added at their indices (GatherGrad)."""
        dy = self._own(dy, "gather_grad")
        self._float32("gather_grad", dy=dy)
        indices = self._indices(indices, "gather_grad")
        return self._one("GatherGrad", "gather_grad", [dy, indices],
                         {"shape": _ints(shape), "axis": int(axis)}, name)

    def gather_elements_grad(self, dy, index, shape, dim=0, name=None):
        """Zeros of shape with dy added where index points (GatherElementsGrad:
        ScatterElements with reduction add)."""
        dy = self._own(dy, "gather_elements_grad")
        self._float32("gather_elements_grad", dy=dy)
        index = self._indices(index, "gather_elements_grad")
        return self._one("GatherElementsGrad", "gather_elements_grad", [dy, index],
                         {"shape": _ints(shape), "axis": int(dim)}, name)

    # ---- indexing -------------------------------------------------------------------

    def _getitem(self, x, key):
        """x[key] for ints, slices, Ellipsis and None, as numpy's basic
        indexing: Slice for the slices and ints, then Squeeze for the ints
        and Unsqueeze for the Nones."""
        key = key if isinstance(key, tuple) else (key,)
        if sum(k is Ellipsis for k in key) > 1:
            raise GraphError("indexing: at most one Ellipsis")
        named = sum(1 for k in key if k is not None and k is not Ellipsis)
        if named > x.ndim:
            raise GraphError(f"indexing: too many indices for a tensor of shape {x.shape}")
        if Ellipsis in key:
            at = key.index(Ellipsis)
            key = key[:at] + (slice(None),) * (x.ndim - named) + key[at + 1:]
        starts, ends, axes, steps, dropped, new_axes = [], [], [], [], [], []
        axis = 0
        out_axis = 0  # position in the result, for None
        for k in key:
            if k is None:
                new_axes.append(out_axis)
                out_axis += 1
                continue
            if isinstance(k, numbers.Integral) and not isinstance(k, bool):
                n = x.shape[axis]
                if not -n <= k < n:
                    raise IndexError(f"index {k} is out of range for axis {axis} of {x.shape}")
                k = int(k) % n
                starts.append(k), ends.append(k + 1), axes.append(axis), steps.append(1)
                dropped.append(axis)
            elif isinstance(k, slice):
                step = 1 if k.step is None else int(k.step)
                if step == 0:
                    raise GraphError("indexing: slice step cannot be zero")
                big = 2**62
                start = (0 if step > 0 else big) if k.start is None else int(k.start)
                stop = (big if step > 0 else -big) if k.stop is None else int(k.stop)
                if (k.start, k.stop, k.step) != (None, None, None):
                    starts.append(start), ends.append(stop), axes.append(axis)
                    steps.append(step)
                out_axis += 1
            else:
                raise GraphError(f"indexing: {type(k).__name__} indices are not supported "
                                 f"(ints, slices, ... and None are); use gather")
            axis += 1
        y = self.slice(x, starts, ends, axes, steps) if axes else x
        if dropped:
            y = self.squeeze(y, dropped)
        if new_axes:
            y = self.unsqueeze(y, new_axes)
        return y if y is not x else self.identity(x)
