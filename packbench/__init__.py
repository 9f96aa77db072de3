"""packbench: the packing bench of a web shop, in a terminal."""

__version__ = "0.1.0"
