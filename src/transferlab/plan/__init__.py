"""The plan: what a validated configuration builds, as pure functions of it.

``Plan(config)`` holds the model grid, the result paths and the labels (``grid``);
``specs`` gives each rule's parameter slice, ``tables`` the paper-table jobs' inputs and
specs, ``outputs`` what ``rule all`` builds and the comparison with the paper. The
workflow's ``common.smk`` wraps these for Snakemake's wildcards; nothing here imports
Snakemake.
"""

from transferlab.plan.grid import Plan

__all__ = ["Plan"]
