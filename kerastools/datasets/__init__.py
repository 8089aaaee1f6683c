"""Toy datasets, a train/valid/test split, and an offline Fashion-MNIST loader.

The toy sets (`make_squares`, `make_xor`, `make_circles`) are small 2-D
problems you can plot and learn in seconds. `split` holds out validation
and test sets of a sensible default size. `load_fashion_mnist` reads the IDX
files from disk and never downloads; `load_idx` reads any MNIST-format file
and checks it on the way.
"""

from kerastools.datasets.fashion_mnist import (
    DEBIAN_FASHION_MNIST,
    FASHION_MNIST_CLASSES,
    load_fashion_mnist,
)
from kerastools.datasets.idx import load_idx
from kerastools.datasets.splitting import DatasetSplit, split
from kerastools.datasets.toy import make_circles, make_squares, make_xor

__all__ = [
    "DEBIAN_FASHION_MNIST",
    "DatasetSplit",
    "FASHION_MNIST_CLASSES",
    "load_fashion_mnist",
    "load_idx",
    "make_circles",
    "make_squares",
    "make_xor",
    "split",
]
