"""Pure tests of app.workflow: no database, no HTTP, milliseconds."""
