"""Datasets and PDE problems: the data every experiment trains on.

    from actlab.data import load_dataset
    ds = load_dataset("digits")                    # embedded, no files needed
    ds.x_train.shape, ds.num_classes               # (1437, 1, 8, 8), 10
    for x, y in ds.loader("train", batch_size=64): ...

    from actlab.data import get_pde
    burgers = get_pde("burgers")
"""
from .dataset import Dataset, RawSplit
from .idx import read_idx, write_idx
from .cifar import read_cifar_batch
from .locate import ENV_VAR
from .pde import PDEProblem, get_pde, list_pdes
from .registry import list_datasets, load_dataset, parse_dataset_spec
from .synthetic import target_function

__all__ = [
    "Dataset", "ENV_VAR", "PDEProblem", "RawSplit", "get_pde", "list_datasets", "list_pdes", "load_dataset",
    "parse_dataset_spec", "read_cifar_batch", "read_idx", "target_function", "write_idx",
]
