"""The draft file format, versioned atomic writes, typed frontmatter and the versions of a drafts folder.

May import: core.
"""
