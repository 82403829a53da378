"""The author's voice as rules learned from their edits: the generated sections kept to compare with, the
edits mined for habits, voice.md (the author's file) rebuilt around their own lines, and the mechanical rules
applied to every section written.

May import: core, files.
"""
