"""Indicators and scoring: pure functions on arrays and GeoDataFrames (they are handed data)."""
