"""One essay's run: a draft, one section again (regen), and the check of a draft's claims.

May import: core, models, embeddings, collect, messages, write, sort, files, voice, plan.
"""
