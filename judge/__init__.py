"""An independent judge of results: an ImageNet network the optimisation never sees."""
