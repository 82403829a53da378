"""The model stack: the chat-model interface (`llm`), the providers registered by name, and the layers a run
wraps around them (privacy guard, redaction, the state store and its cache, prices, the run's session).

May import: core.
"""
