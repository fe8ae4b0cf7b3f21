"""HTTP layer: routers, schemas, dependencies, error rendering."""
