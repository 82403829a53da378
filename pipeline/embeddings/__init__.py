"""Embedding models run with numpy: the bundled static model, MiniLM, MPNet and EmbeddingGemma, and the
unpacking and checking of their weights.

May import: core.
"""
