"""Synthetic leaked dumps shaped after real incidents, with an exact ground-truth file.

``generate(scenario, rows, path, seed=..., messy=..., obfuscate_headers=..., locale=...)``
writes the dump and ``<path>.truth.json`` and returns the truth document. Scenarios
are declared in ``seeds/*.toml``; see ``docs/synthetic.md``.
"""

from synthetic.scenario import CATEGORY_IDS, HEADER_LOCALES, SeedError, load, scenarios

__all__ = ["CATEGORY_IDS", "HEADER_LOCALES", "SeedError", "generate", "load", "scenarios"]


def __getattr__(name: str):
    # The engine pulls in Faker and tqdm; load it when a dump is generated, not when
    # the CLI merely lists commands.
    if name == "generate":
        from synthetic.engine import generate

        return generate
    raise AttributeError(name)
