"""The zplane suite: Radial Bounding + Z-Plane MLP (Goo, Yun, Jung, arXiv 2606.15669)."""
