"""Quality inspection of acceptance (SPEC I1): the monthly sample, scorecards, the report."""
