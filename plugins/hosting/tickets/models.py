"""tickets models."""
