"""Stage `train` (workflow/rules/training.smk): the training loop, its optimizer, clean accuracy
and model files.

Modules are imported by their full name; this package imports nothing (code_digest).
"""
