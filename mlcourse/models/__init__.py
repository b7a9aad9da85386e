"""Model builders the tutorials share (one module per task family)."""
