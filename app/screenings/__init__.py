"""一月一精准排查 / 评估: monthly screening per village, the roster (附件1), and reporting to the town."""
