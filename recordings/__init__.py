"""Recording phrases: interpreters give a voice to the languages the speech engine lacks."""
