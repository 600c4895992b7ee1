"""Find the artworks whose patches can best be stitched into a photo."""
