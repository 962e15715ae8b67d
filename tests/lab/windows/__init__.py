"""The Windows fleet lab: a WinRM stand-in serving many simulated Windows servers (see tests/lab/README.md)."""
