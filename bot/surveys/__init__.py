"""Pulse and eNPS surveys: definitions, templates, schedules, anonymity, results and jobs."""
