"""风险线索 of the national mechanism (防止返贫动态监测和帮扶): reports that a household may be at risk, from the three
channels — 农户自主申报 (the public page, or staff recording a call to 12317, a letter, a visit), 基层干部排查 and
部门筛查预警 — each kept, deduplicated against the household's open leads and cases."""
