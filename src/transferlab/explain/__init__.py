"""Stage `surrogates`/`claims` (workflow/rules/explain.smk): the joined surrogate table, bootstrap
intervals, Pearson r / OLS and the paper's claims.

Modules are imported by their full name; this package imports nothing (code_digest).
"""
