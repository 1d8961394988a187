"""Administration in the browser: a coordinator sets up and changes a centre without
touching a file on the server, and every change is traceable in the audit log."""
