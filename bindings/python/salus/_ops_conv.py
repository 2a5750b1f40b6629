"""The builder's methods for the conv family of ops (salusd/ops/conv.cpp):
PyTorch's names, arguments and defaults, mapped onto the ONNX-style ops.
Output shapes come from the daemon's rules (self._one)."""

from ._errors import GraphError


def _ints(value, n, what):
    """An int or a sequence of n ints, as a list of n ints."""
    if isinstance(value, int):
        return [int(value)] * n
    values = [int(v) for v in value]
    if len(values) != n:
        raise GraphError(f"{what}: expected an int or {n} ints, got {value!r}")
    return values


class ConvOps:
    """Methods of Graph for the conv ops (a mixin over GraphCore and Ops)."""

    # ---- convolution -------------------------------------------------------

    def _conv(self, rank, auto, x, weight, bias, stride, padding, dilation, groups, pads, name):
        x, weight = self._operand(x, auto), self._operand(weight, auto)
        inputs = [x, weight] + ([] if bias is None else [self._operand(bias, auto)])
        self._float32(auto, x=x, weight=weight, bias=inputs[2] if bias is not None else None)
        if pads is None:
            pads = _ints(padding, rank, auto) * 2
        elif len(pads) != 2 * rank:
            raise GraphError(f"{auto}: pads needs {2 * rank} values [begin..., end...], "
                             f"got {pads!r}")
        attrs = {"strides": _ints(stride, rank, auto), "pads": [int(p) for p in pads],
                 "dilations": _ints(dilation, rank, auto), "group": int(groups)}
        return self._one("Conv", auto, inputs, attrs, name)

    def conv1d(self, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
               pads=None, name=None):
        """torch.nn.functional.conv1d: x [N, C, L], weight [M, C/groups, k] (Conv);
        ``pads`` = [begin, end] for asymmetric padding instead of ``padding``."""
        return self._conv(1, "conv1d", x, weight, bias, stride, padding, dilation, groups,
                          pads, name)

    def conv2d(self, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
               pads=None, name=None):
        """torch.nn.functional.conv2d: x [N, C, H, W], weight [M, C/groups, kh, kw] (Conv);
        ``pads`` = [top, left, bottom, right] (ONNX order) for asymmetric padding."""
        return self._conv(2, "conv2d", x, weight, bias, stride, padding, dilation, groups,
                          pads, name)

    def conv_transpose2d(self, x, weight, bias=None, stride=1, padding=0, output_padding=0,
                         groups=1, dilation=1, name=None):
        """torch.nn.functional.conv_transpose2d: x [N, C, H, W], weight
        [C, M/groups, kh, kw] (ConvTranspose)."""
        auto = "conv_transpose2d"
        x, weight = self._operand(x, auto), self._operand(weight, auto)
        inputs = [x, weight] + ([] if bias is None else [self._operand(bias, auto)])
        self._float32(auto, x=x, weight=weight)
        attrs = {"strides": _ints(stride, 2, auto), "pads": _ints(padding, 2, auto) * 2,
                 "dilations": _ints(dilation, 2, auto), "group": int(groups),
                 "output_padding": _ints(output_padding, 2, auto)}
        return self._one("ConvTranspose", auto, inputs, attrs, name)

    # ---- pooling -------------------------------------------------------------

    def _pool(self, rank, auto, x, kernel_size, stride, padding, ceil_mode, extra):
        """x as an operand and the attributes torch's pooling arguments give."""
        x = self._operand(x, auto)
        self._float32(auto, x=x)
        kernel = _ints(kernel_size, rank, auto)
        attrs = {"kernel_shape": kernel,
                 "strides": kernel if stride is None else _ints(stride, rank, auto),
                 "pads": _ints(padding, rank, auto) * 2, "ceil_mode": int(bool(ceil_mode)),
                 **extra}
        return attrs, x

    def _max_pool(self, rank, auto, x, kernel_size, stride, padding, dilation, ceil_mode,
                  return_indices, name):
        attrs, x = self._pool(rank, auto, x, kernel_size, stride, padding, ceil_mode,
                              {"dilations": _ints(dilation, rank, auto)})
        if return_indices:
            return self.op("MaxPool", x, num_outputs=2, name=name, **attrs)
        return self._one("MaxPool", auto, [x], attrs, name)

    def max_pool1d(self, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                   return_indices=False, name=None):
        """torch.nn.functional.max_pool1d (MaxPool); with return_indices also
        the int64 flat positions of the maxima in x."""
        return self._max_pool(1, "max_pool1d", x, kernel_size, stride, padding, dilation,
                              ceil_mode, return_indices, name)

    def max_pool2d(self, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                   return_indices=False, name=None):
        """torch.nn.functional.max_pool2d (MaxPool); indices are flat over all of x
        (ONNX), not per plane as torch's."""
        return self._max_pool(2, "max_pool2d", x, kernel_size, stride, padding, dilation,
                              ceil_mode, return_indices, name)

    def _avg_pool(self, rank, auto, x, kernel_size, stride, padding, ceil_mode,
                  count_include_pad, name):
        attrs, x = self._pool(rank, auto, x, kernel_size, stride, padding, ceil_mode,
                              {"count_include_pad": int(bool(count_include_pad))})
        return self._one("AveragePool", auto, [x], attrs, name)

    def avg_pool1d(self, x, kernel_size, stride=None, padding=0, ceil_mode=False,
                   count_include_pad=True, name=None):
        """torch.nn.functional.avg_pool1d (AveragePool)."""
        return self._avg_pool(1, "avg_pool1d", x, kernel_size, stride, padding, ceil_mode,
                              count_include_pad, name)

    def avg_pool2d(self, x, kernel_size, stride=None, padding=0, ceil_mode=False,
                   count_include_pad=True, name=None):
        """torch.nn.functional.avg_pool2d (AveragePool)."""
        return self._avg_pool(2, "avg_pool2d", x, kernel_size, stride, padding, ceil_mode,
                              count_include_pad, name)

    def global_avg_pool(self, x, name=None):
        """The mean over the spatial axes, keeping them as size 1 (GlobalAveragePool)."""
        x = self._operand(x, "global_avg_pool")
        self._float32("global_avg_pool", x=x)
        return self._one("GlobalAveragePool", "global_avg_pool", [x], {}, name)

    def adaptive_avg_pool2d(self, x, output_size, name=None):
        """torch.nn.functional.adaptive_avg_pool2d for output size 1 only
        (GlobalAveragePool)."""
        if _ints(output_size, 2, "adaptive_avg_pool2d") != [1, 1]:
            raise GraphError(f"adaptive_avg_pool2d: only output_size 1 is supported, got "
                             f"{output_size!r}")
        return self.global_avg_pool(x, name=name)

    # ---- padding and resampling --------------------------------------------

    def pad(self, x, pad, mode="constant", value=0.0, name=None):
        """torch.nn.functional.pad: ``pad`` is (last axis begin, last axis end,
        second-to-last begin, ...); mode constant, reflect or replicate (also
        called edge) (Pad)."""
        x = self._operand(x, "pad")
        self._float32("pad", x=x)
        pad = [int(p) for p in pad]
        if len(pad) % 2 or len(pad) // 2 > x.ndim:
            raise GraphError(f"pad: expected pairs for at most {x.ndim} axes, got {pad!r}")
        modes = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
                 "edge": "edge"}
        if mode not in modes:
            raise GraphError(f"pad: mode {mode!r} is not one of {sorted(modes)}")
        begins, ends = [0] * x.ndim, [0] * x.ndim
        for i in range(len(pad) // 2):
            begins[x.ndim - 1 - i], ends[x.ndim - 1 - i] = pad[2 * i], pad[2 * i + 1]
        attrs = {"pads": begins + ends, "mode": modes[mode], "value": float(value)}
        return self._one("Pad", "pad", [x], attrs, name)

    def depth_to_space(self, x, blocksize, mode="DCR", name=None):
        """Channels to blocks of space (DepthToSpace, ONNX modes DCR and CRD)."""
        x = self._operand(x, "depth_to_space")
        self._float32("depth_to_space", x=x)
        return self._one("DepthToSpace", "depth_to_space", [x],
                         {"blocksize": int(blocksize), "mode": mode}, name)

    def space_to_depth(self, x, blocksize, mode="DCR", name=None):
        """Blocks of space to channels, the inverse of depth_to_space (SpaceToDepth)."""
        x = self._operand(x, "space_to_depth")
        self._float32("space_to_depth", x=x)
        return self._one("SpaceToDepth", "space_to_depth", [x],
                         {"blocksize": int(blocksize), "mode": mode}, name)

    def pixel_shuffle(self, x, upscale_factor, name=None):
        """torch.nn.functional.pixel_shuffle (DepthToSpace mode CRD)."""
        return self.depth_to_space(x, upscale_factor, mode="CRD", name=name)

    def upsample_nearest(self, x, scale_factor, name=None):
        """Nearest upsampling of the spatial axes of x [N, C, spatial...] by
        integer factors (an int or one per spatial axis), as
        torch.nn.functional.interpolate(mode="nearest") (Upsample)."""
        x = self._operand(x, "upsample_nearest")
        self._float32("upsample_nearest", x=x)
        if x.ndim < 3:
            raise GraphError(f"upsample_nearest: x must be [N, C, spatial...], got {x.shape}")
        scales = _ints(scale_factor, x.ndim - 2, "upsample_nearest")
        return self._one("Upsample", "upsample_nearest", [x], {"scales": [1, 1] + scales},
                         name)
