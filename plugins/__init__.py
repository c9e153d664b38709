"""The feature plugins shipped with HashInsight (each registered as an entry point)."""
