"""Understanding: turning a request into a plan of tool calls, in tiers.

Tier 1 (``templates``) matches sentence templates with hassil: deterministic and fast.
Tier 2 (the model tier, a separate issue) asks a local model when tier 1 finds nothing.
"""
