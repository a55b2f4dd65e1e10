"""Stage compare (workflow/rules/compare.smk): our tables against the paper's published numbers.

- ``counterparts``: which paper table each of ours matches; both sides as tidy frames; budget_map.
- ``cells``: cell joins (compare_with_paper) and whole-table comparison (compare_table).
- ``columns``: per-column agreement, Spearman ρ of our rows vs the paper's.
- ``summary``: one summary line per compared table and data set (comparison_summary).
- ``markdown``: Markdown of one table's comparison and of the summary.
- ``reference``: the paper's published tables (package data) and their loader.

Modules are imported by their full name; this package imports nothing (code_digest).
"""
