"""The D-Bus API: io.agentd.Agent1 and io.agentd.Task1 on the session bus."""
