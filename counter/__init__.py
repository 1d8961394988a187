"""Staff pages: the counter workstation and the supervisor's live view of a centre."""
