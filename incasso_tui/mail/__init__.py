"""Transport only: the SMTP sender and the channel adapters (e-mail, WhatsApp, video call). The transactional
outbox that decides what is due and records each result is a use case, ``services.outbox``; this package imports
neither the services nor the store (an import-linter contract, pyproject.toml). See docs/letters.md."""
