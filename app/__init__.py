"""congvan: the workflow engine for incoming official documents (công văn đến)."""
