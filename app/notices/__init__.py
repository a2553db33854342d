"""Printable notices posted in the village: the 公示 of certification results and the 公告 of closures."""
