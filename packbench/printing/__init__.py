"""Printing: packing slips, labels and manifests (PDF/ZPL) through CUPS. Built in issue #4."""
