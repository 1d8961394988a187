"""The visitor's touchscreen: language, visit reason, priority and the ticket."""
