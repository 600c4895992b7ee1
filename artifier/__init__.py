"""Artifier: turn a photo into a painting with a painting it finds by itself."""
