"""Stage `lgv` (workflow/rules/lgv.smk): LGV collections fine-tuned from a surrogate.

Modules are imported by their full name; this package imports nothing (code_digest).
"""
