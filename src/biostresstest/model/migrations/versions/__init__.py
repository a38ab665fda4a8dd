"""One module per schema revision of the PostGIS store."""
