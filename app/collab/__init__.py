"""Comments and attachments on cases and their tasks: what staff say about a case and the paperwork they
photograph or scan for it (posted notices, meeting minutes, signed authorisations)."""
