"""The signal suite: trainability over (C_W, depth) against the ξ_c boundary (see claims.py)."""
