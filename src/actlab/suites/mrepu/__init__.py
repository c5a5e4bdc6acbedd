"""The mrepu suite: MRePU and the effective field theory of RePU networks (Kim & Kang, arXiv 2408.02697);
its own task kind in `task`."""
