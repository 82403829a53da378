"""The chat messages every stage sends: templates rendered with langchain-core, and the shared opening every
call of a draft can start with.

May import: core, collect.
"""
