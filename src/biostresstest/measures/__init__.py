"""Measures: the catalogue, where they fit, what they change, scenarios and the potential."""
