"""The waiting-room wall display: current and recent calls, shown and spoken."""
