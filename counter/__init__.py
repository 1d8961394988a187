"""The staff workstation: sign in, live waiting list, call next and record outcomes."""
