"""The models a writer can use: the catalog of recommended downloads, the resumable and verified downloader from
the Hugging Face Hub, discovery of the model servers running on this machine (Ollama, LM Studio, llama.cpp's
server), `use` (a model into essay.toml), and the setup of the sorting models.

May import: core, models, embeddings.
"""
