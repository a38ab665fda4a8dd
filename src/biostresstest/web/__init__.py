"""The web app: map page, JSON/GeoJSON API and tiles."""
