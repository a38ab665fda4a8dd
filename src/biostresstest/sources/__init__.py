"""Open data sources: one module per source, each with a declarative spec."""
