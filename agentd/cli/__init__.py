"""agentctl: the command-line client of the D-Bus API."""
