"""Tasks: every request becomes a journaled task that survives crashes."""
