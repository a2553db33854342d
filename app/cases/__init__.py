"""A household's case: certification, publicity, assistance, closure (销号)."""
