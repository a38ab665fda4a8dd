"""The one place that wires sources → analysis → store for an area."""
