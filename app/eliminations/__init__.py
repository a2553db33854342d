"""风险消除 under the national mechanism: the criteria, the home check that applies them, the village's review
meeting, and the reversal (回退) of an elimination. A household whose risk is eliminated stays in the registry
with its history; its case ends as 风险已消除 with the date, and a reversal puts it back under monitoring."""
