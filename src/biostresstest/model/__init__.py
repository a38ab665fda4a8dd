"""The data model: area units, the analysis grid, provenance, results and the stores."""
