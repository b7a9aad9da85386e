"""Analysis tools that need no training loop: constructions, diagnostics and the loss surface."""
