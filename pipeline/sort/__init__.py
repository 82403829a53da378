"""The sort: fragments ranked against sections by embeddings (and BM25 for a large vault's shortlist),
and the model's placement where a capable model sorts.

May import: core, models, embeddings, collect, messages.
"""
