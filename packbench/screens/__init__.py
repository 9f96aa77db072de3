"""Textual screens of the packing bench stations."""
