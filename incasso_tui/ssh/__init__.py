"""The built-in SSH server: ``incasso serve ssh`` (see docs/ssh.md)."""
