"""The Azure lab: a local HTTPS stand-in for Entra ID, ARM, the agent registration service and Log Analytics."""
