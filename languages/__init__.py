"""Languages: where each visitor language stands, its strings out to interpreters and back,
and the phrases interpreters record for the languages the speech engine lacks."""
