"""Reports (báo cáo) and their appendices (phụ lục): reading tables out of files, no database.

``sources`` turns uploaded bytes (tab-separated text copied from a Word/PDF report, CSV, XLSX)
into rows of cells with line numbers; ``parser`` recognises the tables in those rows (project
lists, generic tables, indicator tables); ``numbers`` reads Vietnamese numbers and money units.
The services in ``app.services.reports`` store what the parser found.
"""
