"""essay: turn a writer's own notes into a first draft in their own voice.

The stages are plain functions over frozen dataclasses, wired in `pipeline.drafting.runner`:

    collect_notes -> parse_prompt -> sort_fragments -> (plan.md) -> expand_sections -> write_draft

and `essay voice` mines the author's edits of earlier drafts into voice.md, which every writing call follows.

Each subpackage is a stage or a concern and imports only the ones its `__init__` names, all above it here;
tests/test_layout.py checks that, and that this map lists the tree's modules:

    core/       config, errors, locks, progress, text, workspace
    models/     cache, llm, prices, privacy, pulled, redact, scrub, session, providers/ (lmstudio, local, ollama, openai_chat, refusals, slots)
    embeddings/ embed, gemma, minilm, mpnet, transformer, weights
    catalog/    catalog, discover, download, hub, sorting, use
    collect/    fragments, length, notes, prompt
    files/      draftfile, drafts, history, meta
    voice/      apply, generated, mine, pairs, rules, voicefile
    messages/   instructions, shared
    write/      _proper_nouns, expand, finish, grounding, lengths, once, polish, quantities, retell, sources
    sort/       assign, background, doubt, examples, headings, lexical, rank, request, sort
    plan/       carry, corrections, marks, parse, planfile, planning, reading, render
    drafting/   check, choose, dryrun, inputs, layout, quoting, record, regen, runner
    batch/      batch, batch_api, defer_batch, defer_preview, deferred
    export/     clean, export, footnotes, links, render
    cli/        display, export, logs, main, models, options, review, voice
"""

__version__ = "0.1.0"
