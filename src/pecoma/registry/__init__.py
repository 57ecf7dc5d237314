"""The registry's use cases over the store: import, worklist, re-assessment, summary.

Each module parses, calls the engine (which stays pure) and the repository (one
transaction per use case), and renders; see ``docs/registry.md`` for the commands.
"""
