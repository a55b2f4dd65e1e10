"""Stage compare (workflow/rules/compare.smk): our tables against the paper's published numbers.

Modules are imported by their full name; this package imports nothing (code_digest).
"""
