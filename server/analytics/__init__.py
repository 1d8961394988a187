"""Service planning: reports, indicators and a staffing forecast computed from the event log.

Pure pieces (periods, Erlang C, suppression, charts, exports) are free of Flask; `reports`
holds the SQL; `blueprint` and `views` the pages; `history` a synthetic history generator.
"""
