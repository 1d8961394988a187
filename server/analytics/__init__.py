"""Service planning: reports, indicators and a staffing forecast computed from the event log.

Pure pieces (periods, Erlang C, suppression, charts, exports) are free of Flask; `reports`
holds the SQL; `history` a synthetic history generator. The pages are the `reports`
feature; the API serves the same figures at /api/v1/reports/<kind>.
"""
