"""The monthly reports that go up the chain: the roster (附件1) and the measure ledger (附件2)."""
