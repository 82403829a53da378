"""LM Studio's server, against a loopback stand-in of its REST API: what it serves is listed with the window each
model is loaded at, and `--model lmstudio:NAME` fits its requests to that window."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from pipeline.catalog.discover import THIS_MACHINE, Available, lmstudio_models
from pipeline.core.config import Settings
from pipeline.models.providers import make_model, named_settings
from tests.loopback import LoopbackServer, QuietHandler

MODELS = [
    {"id": "qwen2.5-7b-instruct", "type": "llm", "state": "loaded", "max_context_length": 32768,
     "loaded_context_length": 8192},
    {"id": "phi-3.5-mini-instruct", "type": "llm", "state": "not-loaded", "max_context_length": 131072},
    {"id": "text-embedding-nomic-embed-text-v1.5", "type": "embeddings", "state": "not-loaded"},
]  # fmt: skip


@pytest.fixture
def lmstudio() -> Iterator[str]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:
            found: object = {"object": "list", "data": MODELS} if self.path == "/api/v0/models" else None
            for model in MODELS:
                if self.path == f"/api/v0/models/{model['id']}":
                    found = model
            self.send_data(200 if found else 404, json.dumps(found or {"error": "not found"}).encode(), None)

    with LoopbackServer(Handler) as server:
        yield f"{server.url}/v1"


def test_lm_studio_lists_its_chat_models_with_their_loaded_window(lmstudio: str) -> None:
    assert lmstudio_models(lmstudio) == [
        Available("lmstudio:qwen2.5-7b-instruct", "lmstudio", THIS_MACHINE, None, 8192, "loaded"),
        Available("lmstudio:phi-3.5-mini-instruct", "lmstudio", THIS_MACHINE, None, 131072, "not loaded"),
    ]


def test_a_lm_studio_model_is_fitted_to_the_window_it_is_loaded_at(lmstudio: str) -> None:
    settings = named_settings(Settings(provider="lmstudio", model="lmstudio:qwen2.5-7b-instruct", base_url=lmstudio))
    model = make_model(settings)
    assert (settings.provider, model.model, model.endpoint) == ("lmstudio", "qwen2.5-7b-instruct", lmstudio)
    assert model.context_window == 8192
    assert model.sends_over_http  # a server: private notes only if it is trusted
