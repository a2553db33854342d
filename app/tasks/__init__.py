"""Working a task from the inbox: claims, hand-over, stand-ins and form drafts."""
