"""Reading the writer's material: notes into fragments (single thoughts), and a prompt into its sections.

May import: core.
"""
