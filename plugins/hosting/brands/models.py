"""brands models."""
