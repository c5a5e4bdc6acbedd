"""The zorro suite: the Zorro activation family (Roodschild et al., arXiv 2409.19239)."""
