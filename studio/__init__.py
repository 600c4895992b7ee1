"""Artifier Studio: one local process that keeps the network and the index loaded and
serves a page to find paintings for a photo, paint with them and browse the results."""
