"""Stage tables (workflow/rules/tables.smk): one module per paper table, each building a tidy frame
and its Markdown.

Modules are imported by their full name; this package imports nothing (code_digest).
"""
