"""The plan file: made from the sort, read back as the author left it, followed by the draft.

May import: core, models, embeddings, collect, messages, sort, files.
"""
