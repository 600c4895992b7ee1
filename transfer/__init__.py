"""Painterly transfer: a photo re-made from a painting's own best-matching pieces."""
