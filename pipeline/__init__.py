"""essay: turn a writer's own notes into a first draft in their own voice.

The stages are plain functions over frozen dataclasses, wired in `pipeline.runner`:

    collect_notes -> parse_prompt -> assign_fragments -> expand_sections -> write_draft
"""

__version__ = "0.1.0"
