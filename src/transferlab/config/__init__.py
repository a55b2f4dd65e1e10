"""The pipeline configuration beyond its JSON schema.

- ``checks``: ``ConfigError`` and ``check_config``, the semantic checks of a configuration.
- ``labels``: row labels of surrogates, τ formatting, Table V's LGV labels, the paper's row labels.
- ``rows``: which data sets, budgets and surrogate rows each table is built from.
"""
