"""Errors, settings, CRS and grid constants shared by every layer."""
