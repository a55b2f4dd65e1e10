"""Stage `measure`/`similarity` (workflow/rules/metrics.smk): smoothness (Def. 1) and gradient
similarity (Def. 2).

Modules are imported by their full name; this package imports nothing (code_digest).
"""
