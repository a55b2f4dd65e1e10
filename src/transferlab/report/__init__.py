"""Stage report (workflow/rules/report.smk): figures, plots and the report's HTML pages.

Modules are imported by their full name; this package imports nothing (code_digest).
"""
