"""Writing sections and finishing them: the writing calls, footnotes from citations, and the flags for
claims none of the notes hold.

May import: core, models, embeddings, collect, voice, messages.
"""
