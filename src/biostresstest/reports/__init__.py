"""Reports from the stored results: context, maps, charts, templates and PDF."""
