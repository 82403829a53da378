"""essay: turn a writer's own notes into a first draft in their own voice.

The stages are plain functions over frozen dataclasses, wired in `pipeline.drafting.runner`:

    collect_notes -> parse_prompt -> sort_fragments -> (plan.md) -> expand_sections -> write_draft

Each subpackage is a stage or a concern and imports only the ones its `__init__` names, all above it here;
tests/test_layout.py checks that, and that this map lists the tree's modules:

    core/       config, errors, progress, text, workspace
    models/     cache, llm, prices, privacy, redact, session, providers/ (local, openai_chat, slots)
    embeddings/ embed, gemma, minilm, mpnet, transformer, weights
    collect/    fragments, notes, prompt
    messages/   instructions, shared
    write/      _proper_nouns, expand, finish, grounding, quantities, sources
    sort/       assign, background, doubt, examples, lexical, rank, request, sort
    files/      draftfile, drafts, history, meta
    plan/       corrections, marks, planfile, planning
    drafting/   check, regen, runner
    batch/      batch, batch_api, defer_batch, defer_preview, deferred
    cli/        display, main, options, review
"""

__version__ = "0.1.0"
