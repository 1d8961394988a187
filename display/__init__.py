"""The waiting-room wall display: the current call large, the last calls, a clock, spoken calls."""
