"""The capacity suite: capacity of ReLU vs sign committee machines (Baldassi, Malatesta & Zecchina, PRL 2019),
built on the library actlab.capacity: its specs (quick.toml, full.toml), the `capacity` task kind (task.py) and its
claims, tables and figures (claims.py)."""
