"""biostresstest: the biodiversity stress test and opportunity map for Dutch municipalities."""

__version__ = "0.1.0"
