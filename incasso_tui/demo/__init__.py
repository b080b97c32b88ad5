"""The deterministic demo and benchmark book: the generator (``generate``) and its name tables (``names.toml``,
read by ``names``). Not part of the desk's own work: ``incasso generate``, ``incasso demo`` and the tests use it."""
