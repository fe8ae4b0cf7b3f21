"""Audit: processing times, stage durations, overdue work, Decree 30 timeliness, the register book.

Every figure is computed on request from the event log, the assignments and the documents;
nothing here is a stored aggregate that could drift from the record.
"""
