"""rmote-compatible controller API backed by pythond's tool agent (standard library only)."""
