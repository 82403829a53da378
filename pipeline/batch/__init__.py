"""Many prompts at once, and `--defer`: the provider's Batch API, the deferring model and its rounds.

May import: core, models, embeddings, collect, messages, write, sort, files, plan, drafting.
"""
