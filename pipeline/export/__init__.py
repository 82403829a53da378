"""Export: a finished draft leaves the drafts folder as clean markdown (CommonMark and footnotes, a title and date
frontmatter), one self-contained HTML file, or a Word file through pandoc. The drafts' versions are only read.

May import: core, files, write.
"""
