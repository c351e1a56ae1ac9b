"""Policy: decides, right before a step runs, whether it may run."""
