"""The finite_width suite: the 1/n theory of the kernel (actlab.theory.fluctuations) against sampled
networks, and the verdict on MRePU's finite-width shift; its own task kind in `task`, its claims,
sections and figure in `claims`."""
