"""The ground floor: the project's errors, text helpers, progress callbacks, essay.toml's settings and
finding the workspace.

May import: nothing else in pipeline.
"""
