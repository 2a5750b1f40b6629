"""Gives PyTorch on the CPU exactly N threads, as salusd's kernels get with
--blas-threads N. torch.set_num_threads() sizes PyTorch's own pool and
oneDNN's OpenMP teams but not OpenBLAS's pool, which Debian's PyTorch calls
for its matrix products (libblas.so.3 is OpenBLAS) and which otherwise takes
every core: on a 2-core machine a "1-thread" PyTorch MLP ran its GEMMs on 2."""

import ctypes

import torch


def limit_threads(n):
    torch.set_num_threads(n)
    try:
        ctypes.CDLL("libopenblas.so.0").openblas_set_num_threads(n)
    except (OSError, AttributeError):
        pass  # PyTorch without OpenBLAS: nothing else to size
