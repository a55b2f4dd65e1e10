"""Stage `attack` (workflow/rules/transfer.smk): crafting adversarial examples, their files, and
transfer success on targets.

Modules are imported by their full name; this package imports nothing (code_digest).
"""
