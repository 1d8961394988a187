"""The report pages: service planning for supervisors, from the figures of `server/analytics`."""
