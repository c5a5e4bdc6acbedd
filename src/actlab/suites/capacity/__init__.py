"""The capacity suite: capacity of ReLU vs sign committee machines (Baldassi, Malatesta & Zecchina, PRL 2019),
built on the library actlab.capacity; a Python suite (`suite.run_suite`), not a sweep."""
