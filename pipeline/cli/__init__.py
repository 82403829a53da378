"""The `essay` command: parses options, calls the stages' public functions and prints. Nothing else lives here.

May import: core, models, embeddings, catalog, collect, messages, files, voice, write, sort, plan, drafting, batch,
export.
"""
